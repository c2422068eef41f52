{{- define "lib.deployment.tpl" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
  labels:
    app.kubernetes.io/name: {{ .Chart.Name }}
    {{- with .Values.global.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: {{ include "lib.image" (dict "global" .Values.global "image" .Values.image) }}
{{- end -}}
{{- define "lib.deployment" -}}
{{- include "lib.merge" (list . "lib.deployment.override" "lib.deployment.tpl") -}}
{{- end -}}
{{- define "lib.deployment.override" -}}
{{- end -}}
