{{/*
Names, labels and the pieces every Stowage pod shares. Component helpers take
(dict "ctx" $ "component" "<name>") and read that component's values from .Values.<component>.
*/}}

{{- define "stowage.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "stowage.fullname" -}}
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

{{/* <fullname>-<component>: the name of every object of a component. */}}
{{- define "stowage.componentName" -}}
{{- printf "%s-%s" (include "stowage.fullname" .ctx | trunc 50 | trimSuffix "-") .component }}
{{- end }}

{{- define "stowage.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stowage.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "stowage.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "stowage.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: stowage
{{- end }}

{{- define "stowage.componentSelectorLabels" -}}
{{ include "stowage.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "stowage.componentLabels" -}}
{{ include "stowage.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* metadata: name, namespace and labels of a namespaced object of a component. */}}
{{- define "stowage.metadata" -}}
name: {{ include "stowage.componentName" . }}
namespace: {{ .ctx.Release.Namespace }}
labels:
  {{- include "stowage.componentLabels" . | nindent 2 }}
{{- end }}

{{- define "stowage.publicUrl" -}}
{{- $api := .Values.api -}}
{{- if .Values.publicUrl }}
{{- .Values.publicUrl }}
{{- else if $api.ingress.enabled }}
{{- printf "%s://%s" (ternary "https" "http" $api.ingress.tls.enabled) $api.ingress.host }}
{{- else }}
{{- printf "http://%s.%s.svc:%d" (include "stowage.componentName" (dict "ctx" . "component" "api")) .Release.Namespace ($api.service.port | int64) }}
{{- end }}
{{- end }}

{{- define "stowage.signingSecretName" -}}
{{- .Values.api.signingSecret.existingSecret | default (include "stowage.componentName" (dict "ctx" . "component" "signing")) }}
{{- end }}

{{/* The container ports, fixed: the Services and probes refer to them by name. */}}
{{- define "stowage.httpPort" -}}8080{{- end }}
{{- define "stowage.metricsPort" -}}9464{{- end }}

{{- define "stowage.env.database" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.urlKey }}
{{- end }}

{{- define "stowage.env.redis" -}}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingSecret }}
      key: {{ .Values.redis.urlKey }}
{{- end }}

{{- define "stowage.env.s3" -}}
{{- $s3 := .Values.s3 -}}
- name: S3_ENDPOINT
  value: {{ $s3.endpoint | default (printf "https://s3.%s.amazonaws.com" $s3.region) | quote }}
{{- with $s3.publicEndpoint }}
- name: S3_PUBLIC_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: S3_REGION
  value: {{ $s3.region | quote }}
- name: S3_FORCE_PATH_STYLE
  value: {{ $s3.forcePathStyle | quote }}
- name: S3_BUCKET_PREFIX
  value: {{ $s3.bucketPrefix | quote }}
{{- if eq $s3.auth "secret" }}
- name: S3_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ $s3.existingSecret }}
      key: {{ $s3.accessKeyIdKey }}
- name: S3_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $s3.existingSecret }}
      key: {{ $s3.secretAccessKeyKey }}
{{- end }}
{{- end }}

{{- define "stowage.env.common" -}}
- name: METRICS_PORT
  value: {{ include "stowage.metricsPort" . | quote }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- end }}

{{/* What the API and the operator both hand out or check: URLs, and the largest file a tenant may allow. */}}
{{- define "stowage.env.tenancy" -}}
- name: PUBLIC_URL
  value: {{ include "stowage.publicUrl" . | quote }}
- name: MAX_FILE_SIZE_LIMIT
  value: {{ .Values.maxFileSizeLimit | quote }}
{{- end }}

{{/*
The pod-level settings every component shares: security context (non-root, RuntimeDefault seccomp),
pull secrets, scheduling from .Values.<component>, and /tmp as the one writable directory.
*/}}
{{- define "stowage.podSpec" -}}
{{- $values := index .ctx.Values .component -}}
{{- with .ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
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
volumes:
  - name: tmp
    emptyDir: {}
{{- end }}

{{/* The container-level settings every component shares: image, security context, /tmp, resources. */}}
{{- define "stowage.container" -}}
{{- $values := index .ctx.Values .component -}}
{{- $image := .ctx.Values.image -}}
image: {{ printf "%s:%s" $image.repository ($image.tag | default .ctx.Chart.AppVersion) | quote }}
imagePullPolicy: {{ $image.pullPolicy }}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: [ALL]
volumeMounts:
  - name: tmp
    mountPath: /tmp
resources:
  {{- toYaml $values.resources | nindent 2 }}
{{- end }}

{{/* Liveness on /healthz and readiness on /readyz, on the named container port. */}}
{{- define "stowage.probes" -}}
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ . }}
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ . }}
  periodSeconds: 5
  failureThreshold: 3
{{- end }}

{{/* Pod template metadata: the component's labels and its podAnnotations. */}}
{{- define "stowage.podMetadata" -}}
{{- $values := index .ctx.Values .component -}}
labels:
  {{- include "stowage.componentLabels" . | nindent 2 }}
{{- with $values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* A ServiceAccount for a component, with .Values.<component>.serviceAccount.annotations. */}}
{{- define "stowage.serviceAccount" -}}
{{- $values := index .ctx.Values .component -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  {{- include "stowage.metadata" . | nindent 2 }}
  {{- with $values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: {{ .automount | default false }}
{{- end }}

{{/* A metrics-only Service, for components whose one port is the metrics port. */}}
{{- define "stowage.metricsService" -}}
apiVersion: v1
kind: Service
metadata:
  {{- include "stowage.metadata" . | nindent 2 }}
spec:
  type: ClusterIP
  selector:
    {{- include "stowage.componentSelectorLabels" . | nindent 4 }}
  ports:
    - name: metrics
      port: {{ include "stowage.metricsPort" . }}
      targetPort: metrics
{{- end }}

{{/* Fails when .Values.<component>.autoscaling has its bounds the wrong way round (the schema cannot tell). */}}
{{- define "stowage.checkReplicaBounds" -}}
{{- $autoscaling := (index .ctx.Values .component).autoscaling }}
{{- if gt (int $autoscaling.minReplicas) (int $autoscaling.maxReplicas) }}
{{- fail (printf "%s.autoscaling.minReplicas (%d) must not exceed %s.autoscaling.maxReplicas (%d)" .component (int $autoscaling.minReplicas) .component (int $autoscaling.maxReplicas)) }}
{{- end }}
{{- end }}

{{/* A CPU HorizontalPodAutoscaler for a component's Deployment, from .Values.<component>.autoscaling. */}}
{{- define "stowage.hpa" -}}
{{- include "stowage.checkReplicaBounds" . }}
{{- $autoscaling := (index .ctx.Values .component).autoscaling -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  {{- include "stowage.metadata" . | nindent 2 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "stowage.componentName" . }}
  minReplicas: {{ $autoscaling.minReplicas | int64 }}
  maxReplicas: {{ $autoscaling.maxReplicas | int64 }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $autoscaling.targetCPUUtilizationPercentage | int64 }}
{{- end }}
