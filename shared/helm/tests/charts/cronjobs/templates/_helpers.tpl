{{- define "cronjobs.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- range $k, $v := .Values.extraLabels }}
{{ $k }}: {{ $v }}
{{- end }}
{{- end }}
