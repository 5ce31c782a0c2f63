{{/* vim: set filetype=mustache: */}}

{{/*
The name of every object: `scim-gateway`, the upstream name nginz's values route to, unless
fullnameOverride says otherwise (as wire-server's charts name theirs `brig`, `spar`, ...).
*/}}
{{- define "scim-gateway.fullname" -}}
{{- default "scim-gateway" .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object, as wire-server's charts write them. */}}
{{- define "scim-gateway.labels" -}}
app: {{ include "scim-gateway.fullname" . }}
chart: {{ .Chart.Name }}-{{ .Chart.Version | replace "+" "_" }}
release: {{ .Release.Name }}
heritage: {{ .Release.Service }}
{{- end -}}

{{/* The labels that select the gateway's pods (Service, PodDisruptionBudget, spread, ServiceMonitor). */}}
{{- define "scim-gateway.selectorLabels" -}}
app: {{ include "scim-gateway.fullname" . }}
release: {{ .Release.Name }}
{{- end -}}

{{- define "scim-gateway.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}

{{/*
The gateway's config.yaml: .Values.config as given, checked for what would only fail at start,
and with store.migrate_at_start false when the migrations Job does that work.
*/}}
{{- define "scim-gateway.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- $store := default (dict) $config.store -}}
{{- $kind := default "sqlite" $store.kind -}}
{{- if and (eq $kind "sqlite") (gt (int .Values.replicaCount) 1) -}}
{{- fail "replicaCount > 1 needs config.store.kind: postgres (each SQLite pod would have a database of its own)" -}}
{{- end -}}
{{- if and (eq $kind "sqlite") .Values.migrations.job.enabled -}}
{{- fail "migrations.job.enabled needs config.store.kind: postgres (a Job cannot reach a pod's SQLite file)" -}}
{{- end -}}
{{- if and (eq $kind "postgres") (not $store.dsn) (not .Values.secrets.postgres.dsnKey) -}}
{{- fail "config.store.kind postgres needs config.store.dsn or secrets.postgres.existingSecret with dsnKey" -}}
{{- end -}}
{{- if and (or .Values.secrets.postgres.dsnKey .Values.secrets.postgres.passwordKey) (not .Values.secrets.postgres.existingSecret) -}}
{{- fail "secrets.postgres.dsnKey or passwordKey needs secrets.postgres.existingSecret (the Secret's name)" -}}
{{- end -}}
{{- if .Values.migrations.job.enabled -}}
{{- $_ := set $config "store" (merge (dict "migrate_at_start" false) (omit $store "migrate_at_start")) -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* The internal listener's port name: `internal` when config.listen.internal_port is set, else `http`. */}}
{{- define "scim-gateway.internalPortName" -}}
{{- if (default (dict) .Values.config.listen).internal_port -}}internal{{- else -}}http{{- end -}}
{{- end -}}

{{/*
Environment shared by the gateway and the migrations Job: the image's own ENV pinned to the
config file's values (an environment variable wins over the file; written as JSON strings because
the gateway reads SCIM_GATEWAY__* values as YAML, where `::` would not be a string), then the
secrets.
*/}}
{{- define "scim-gateway.env" -}}
{{- $listen := default (dict) .Values.config.listen -}}
{{- $store := default (dict) .Values.config.store -}}
- name: SCIM_GATEWAY__LISTEN__HOST
  value: {{ default "0.0.0.0" $listen.host | toJson | quote }}
{{- if $store.path }}
- name: SCIM_GATEWAY__STORE__PATH
  value: {{ $store.path | toJson | quote }}
{{- end }}
{{- with .Values.secrets.postgres }}
{{- if and .existingSecret .dsnKey }}
- name: SCIM_GATEWAY__STORE__DSN
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret | quote }}
      key: {{ .dsnKey | quote }}
{{- end }}
{{- if and .existingSecret .passwordKey }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret | quote }}
      key: {{ .passwordKey | quote }}
{{- end }}
{{- end }}
{{- with .Values.secrets.cassandra }}
{{- if .existingSecret }}
- name: SCIM_GATEWAY__SPAR_STATE__USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret | quote }}
      key: {{ .usernameKey | quote }}
- name: SCIM_GATEWAY__SPAR_STATE__PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret | quote }}
      key: {{ .passwordKey | quote }}
{{- end }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
