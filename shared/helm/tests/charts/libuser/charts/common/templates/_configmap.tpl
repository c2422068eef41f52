{{- define "common.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .root.Release.Name }}-{{ .name }}
  labels:
    {{- include "common.labels" .root | nindent 4 }}
data:
  {{- range $k, $v := .data }}
  {{ $k }}: {{ $v | toString | quote }}
  {{- end }}
{{- end -}}
