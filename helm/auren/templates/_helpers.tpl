{{/*
Names, labels and the fixed facts of every app. An app is an entry of .Values.apps; what the
chart may not vary (its script, whether it is a processor or the gateway, what it needs) is in
"auren.appSpecs" below, so the templates render every app from one definition.
*/}}

{{- define "auren.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped name: <release>-auren, or the release name when it already holds the chart's name. */}}
{{- define "auren.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "auren.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. app.kubernetes.io/part-of is the ServiceMonitor's jobLabel (job="auren"). */}}
{{- define "auren.labels" -}}
helm.sh/chart: {{ include "auren.chart" . }}
{{ include "auren.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: auren
{{- end }}

{{- define "auren.selectorLabels" -}}
app.kubernetes.io/name: {{ include "auren.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Name of an app's objects. Takes (dict "root" $ "name" <app>). */}}
{{- define "auren.appFullname" -}}
{{- printf "%s-%s" (include "auren.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of an app's objects; app.kubernetes.io/component is the app (and auren_target). */}}
{{- define "auren.appLabels" -}}
{{ include "auren.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "auren.appSelectorLabels" -}}
{{ include "auren.selectorLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "auren.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "auren.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "auren.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
The fixed facts of every app, by key of .Values.apps:
  script        the container argument (the image's entrypoint is `node --import tsx`)
  kind          processor (runtime ops server: AUREN_HTTP_*, AUREN_SHUTDOWN_*) or gateway
                (AUREN_GATEWAY_HTTP_*, AUREN_GATEWAY_SHUTDOWN_FORCE_MS)
  database      needs AUREN_DATABASE_URL; dbSchemaEnv names its schema variable
  s3            needs the S3 store (archival)
  alertmanager  needs AUREN_ALERTMANAGER_URL and the stream rule file (alerting)
*/}}
{{- define "auren.appSpecs" -}}
enrichment:
  script: processors/enrichment/main.ts
  kind: processor
aggregation:
  script: processors/aggregation/main.ts
  kind: processor
  database: true
  dbSchemaEnv: AUREN_AGGREGATION_DB_SCHEMA
alerting:
  script: processors/alerting/main.ts
  kind: processor
  database: true
  dbSchemaEnv: AUREN_ALERTING_DB_SCHEMA
  alertmanager: true
archival:
  script: processors/archival/main.ts
  kind: processor
  database: true
  dbSchemaEnv: AUREN_ARCHIVAL_DB_SCHEMA
  s3: true
event-store:
  script: processors/event-store/main.ts
  kind: processor
  database: true
  dbSchemaEnv: AUREN_EVENT_STORE_DB_SCHEMA
gateway:
  script: gateway/server.ts
  kind: gateway
  database: true
  dbSchemaEnv: AUREN_GATEWAY_DB_SCHEMA
{{- end }}

{{/* The spec of one app (YAML). Takes (dict "root" $ "name" <app>); fails on an unknown app. */}}
{{- define "auren.appSpec" -}}
{{- $specs := include "auren.appSpecs" .root | fromYaml }}
{{- if not (hasKey $specs .name) }}
{{- fail (printf "apps.%s: unknown app (known: %s)" .name (keys $specs | sortAlpha | join ", ")) }}
{{- end }}
{{- index $specs .name | toYaml }}
{{- end }}

{{/* True ("true") when an enabled app has the given need (database, s3, alertmanager). Takes (dict "root" $ "need" <need>). */}}
{{- define "auren.anyEnabledNeeds" -}}
{{- $specs := include "auren.appSpecs" .root | fromYaml }}
{{- $found := false }}
{{- range $name, $app := .root.Values.apps }}
{{- if and $app.enabled (hasKey $specs $name) (index (index $specs $name) $.need | default false) }}
{{- $found = true }}
{{- end }}
{{- end }}
{{- if $found }}true{{ end }}
{{- end }}

{{/* Variables that hold secrets: only ever set from a Secret (secretKeyRef), never from values. */}}
{{- define "auren.secretEnvNames" -}}
- AUREN_DATABASE_URL
- AUREN_S3_ACCESS_KEY_ID
- AUREN_S3_SECRET_ACCESS_KEY
- AUREN_GATEWAY_JWT_SECRET
- AUREN_GATEWAY_JWKS_URL
- AUREN_GATEWAY_INGEST_API_KEYS
{{- end }}
