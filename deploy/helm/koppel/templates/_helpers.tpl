{{/* Chart name, truncated to the 63 characters a label allows. */}}
{{- define "koppel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-wide prefix of every object name. */}}
{{- define "koppel.fullname" -}}
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

{{- define "koppel.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "koppel.labels" -}}
helm.sh/chart: {{ include "koppel.chart" . }}
app.kubernetes.io/name: {{ include "koppel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: koppel
{{- end }}

{{/* Labels of one service's objects: dict "root" $ "name" <service>. */}}
{{- define "koppel.serviceLabels" -}}
{{ include "koppel.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "koppel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "koppel.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* Object name of one service: <fullname>-<service>. */}}
{{- define "koppel.serviceName" -}}
{{- printf "%s-%s" (include "koppel.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* KOPPEL_<SERVICE>_: the env prefix the service's settings class reads. */}}
{{- define "koppel.envPrefix" -}}
{{- printf "KOPPEL_%s_" (.name | upper | replace "-" "_") }}
{{- end }}

{{/*
Deep merge for values: keys of .over win over .base, false/0/"" included
(sprig's merge/mergeOverwrite drop those). Maps merge recursively; lists and
scalars are replaced. Returns YAML.
*/}}
{{- define "koppel.merge" -}}
{{- $base := .base | default dict }}
{{- $over := .over | default dict }}
{{- $out := dict }}
{{- range $key, $value := $base }}
{{- if not (hasKey $over $key) }}
{{- $_ := set $out $key $value }}
{{- else if and (kindIs "map" $value) (kindIs "map" (get $over $key)) }}
{{- $_ := set $out $key (include "koppel.merge" (dict "base" $value "over" (get $over $key)) | fromYaml) }}
{{- else }}
{{- $_ := set $out $key (get $over $key) }}
{{- end }}
{{- end }}
{{- range $key, $value := $over }}
{{- if not (hasKey $base $key) }}
{{- $_ := set $out $key $value }}
{{- end }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/* One service's values: serviceDefaults merged under services.<name>. Returns YAML. */}}
{{- define "koppel.serviceValues" -}}
{{- include "koppel.merge" (dict "base" .root.Values.serviceDefaults "over" (.svc | default dict)) }}
{{- end }}

{{/* An image reference: dict "root" $ "image" <image values>. */}}
{{- define "koppel.image" -}}
{{- $registry := .root.Values.image.registry }}
{{- $repository := required "an image.repository is required" .image.repository }}
{{- $ref := ternary $repository (printf "%s/%s" (trimSuffix "/" $registry) $repository) (empty $registry) }}
{{- if .image.digest }}
{{- printf "%s@%s" $ref .image.digest }}
{{- else }}
{{- printf "%s:%s" $ref (.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion) }}
{{- end }}
{{- end }}

{{- define "koppel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "koppel.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding MONGODB_URI and SECRETS_KEY for every service. */}}
{{- define "koppel.sharedSecretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-shared" (include "koppel.fullname" .)) }}
{{- end }}

{{- define "koppel.sharedConfigName" -}}
{{- printf "%s-shared" (include "koppel.fullname" .) }}
{{- end }}

{{/* Non-secret settings every service gets (unprefixed keys). */}}
{{- define "koppel.sharedConfig" -}}
KAFKA_BOOTSTRAP_SERVERS: {{ .Values.kafka.bootstrapServers | quote }}
TOPIC_PREFIX: {{ .Values.kafka.topicPrefix | quote }}
CONSUMER_GROUP_PREFIX: {{ .Values.kafka.consumerGroupPrefix | quote }}
HTTP_PORT: {{ .Values.httpPort | int | quote }}
{{- range $key, $value := .Values.config }}
{{ $key }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* Does a service get a Service object? (webhooks, or a ServiceMonitor to scrape it) */}}
{{- define "koppel.wantsService" -}}
{{- if or .s.service.enabled .root.Values.metrics.serviceMonitor.enabled }}true{{ end }}
{{- end }}
