{{/* lib.merge: renders the base template, then merges the override template over it. */}}
{{- define "lib.merge" -}}
{{- $top := first . -}}
{{- $override := fromYaml (include (index . 1) $top) | default (dict) -}}
{{- $base := fromYaml (include (index . 2) $top) | default (dict) -}}
{{- toYaml (mergeOverwrite $base $override) -}}
{{- end -}}

{{- define "lib.image" -}}
{{- $registry := .global.imageRegistry | default "docker.io" -}}
{{- printf "%s/%s" $registry .image -}}
{{- end -}}
