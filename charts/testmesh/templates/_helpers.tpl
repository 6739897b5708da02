{{/* Names, labels and the pieces every role's pod shares. */}}

{{- define "testmesh.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "testmesh.fullname" -}}
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

{{/* Labels of an object of one component: (dict "root" $ "component" "operator") */}}
{{- define "testmesh.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{ include "testmesh.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: testmesh
{{- end }}

{{- define "testmesh.selectorLabels" -}}
app.kubernetes.io/name: {{ include "testmesh.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "testmesh.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Service account of a role: (dict "root" $ "component" "operator") */}}
{{- define "testmesh.serviceAccountName" -}}
{{- $sa := (index .root.Values .component).serviceAccount }}
{{- if $sa.create }}
{{- default (printf "%s-%s" (include "testmesh.fullname" .root) .component) $sa.name }}
{{- else }}
{{- default "default" $sa.name }}
{{- end }}
{{- end }}

{{- define "testmesh.postgresql.host" -}}
{{ include "testmesh.fullname" . }}-postgresql
{{- end }}

{{- define "testmesh.redis.host" -}}
{{ include "testmesh.fullname" . }}-redis
{{- end }}

{{/* The Secret holding the generated passwords and URLs given in values. */}}
{{- define "testmesh.datastoresSecret" -}}
{{ include "testmesh.fullname" . }}-datastores
{{- end }}

{{- define "testmesh.postgresql.passwordSecret" -}}
{{- if .Values.postgresql.auth.existingSecret }}
{{- .Values.postgresql.auth.existingSecret }}
{{- else }}
{{- include "testmesh.datastoresSecret" . }}
{{- end }}
{{- end }}

{{- define "testmesh.redis.passwordSecret" -}}
{{- if .Values.redis.auth.existingSecret }}
{{- .Values.redis.auth.existingSecret }}
{{- else }}
{{- include "testmesh.datastoresSecret" . }}
{{- end }}
{{- end }}

{{/*
TESTMESH_DATABASE_URL and TESTMESH_REDIS_URL. With the bundled stores the URL is composed in
the pod from the password's Secret (Kubernetes expands $(VAR)), so no URL holds a password in
values or manifests. Argument: (dict "root" $ "secretName" name-of-the-secret-with-external-urls)
*/}}
{{- define "testmesh.datastoreEnv" -}}
{{- $root := .root }}
{{- if $root.Values.postgresql.enabled }}
- name: TESTMESH_POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "testmesh.postgresql.passwordSecret" $root }}
      key: {{ $root.Values.postgresql.auth.existingSecretPasswordKey }}
- name: TESTMESH_DATABASE_URL
  value: {{ printf "postgres://%s:$(TESTMESH_POSTGRES_PASSWORD)@%s:5432/%s" $root.Values.postgresql.auth.username (include "testmesh.postgresql.host" $root) $root.Values.postgresql.auth.database | quote }}
{{- else }}
- name: TESTMESH_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.externalDatabase.existingSecret | default .secretName }}
      key: {{ $root.Values.externalDatabase.existingSecretKey }}
{{- end }}
{{- if .withRedis }}
{{- if $root.Values.redis.enabled }}
- name: TESTMESH_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "testmesh.redis.passwordSecret" $root }}
      key: {{ $root.Values.redis.auth.existingSecretPasswordKey }}
- name: TESTMESH_REDIS_URL
  value: {{ printf "redis://:$(TESTMESH_REDIS_PASSWORD)@%s:6379/0" (include "testmesh.redis.host" $root) | quote }}
{{- else }}
- name: TESTMESH_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.externalRedis.existingSecret | default .secretName }}
      key: {{ $root.Values.externalRedis.existingSecretKey }}
{{- end }}
{{- end }}
{{- end }}

{{/* Environment every role shares: (dict "root" $ "component" "operator") */}}
{{- define "testmesh.commonEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: TESTMESH_LOG_FORMAT
  value: {{ .root.Values.logFormat | quote }}
- name: TESTMESH_WATCH_NAMESPACES
  value: {{ join "," .root.Values.watchNamespaces | quote }}
{{- with .root.Values.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "testmesh-%s" $.component | quote }}
{{- end }}
{{ include "testmesh.datastoreEnv" (dict "root" .root "secretName" (include "testmesh.datastoresSecret" .root) "withRedis" true) | trim }}
{{- with .root.Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with (index .root.Values .component).extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod-level fields every role shares: (dict "root" $ "component" "operator") */}}
{{- define "testmesh.podSpecCommon" -}}
{{- $values := index .root.Values .component }}
serviceAccountName: {{ include "testmesh.serviceAccountName" . }}
automountServiceAccountToken: true
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with $values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Pod metadata every role shares: (dict "root" $ "component" "operator") */}}
{{- define "testmesh.podMetadata" -}}
{{- $values := index .root.Values .component }}
labels:
  {{- include "testmesh.selectorLabels" . | nindent 2 }}
  {{- with merge (dict) $values.podLabels .root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with merge (dict) $values.podAnnotations .root.Values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
