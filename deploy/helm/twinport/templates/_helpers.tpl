{{/*
Shared pieces of the chart. The connector's container, its volumes and its twinport.toml are defined once here and
used by both forms: the gateway Deployment (deployment.yaml) and the sidecar patch (sidecar-patch.yaml).
*/}}

{{- define "twinport.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "twinport.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The pods the Services, NetworkPolicy and PodDisruptionBudget select: ours, or the workload's in sidecar form. */}}
{{- define "twinport.selectorLabels" -}}
{{- if eq .Values.form "sidecar" -}}
{{- toYaml .Values.sidecar.podSelector -}}
{{- else -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- end -}}

{{- define "twinport.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "twinport.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "twinport.postgres" -}}
{{- if .Values.storage.urlSecretKey -}}true{{- end -}}
{{- end -}}

{{/* A claim only for SQLite: with PostgreSQL nothing in data_dir has to outlive the pod. */}}
{{- define "twinport.claim" -}}
{{- if and (not .Values.storage.urlSecretKey) .Values.storage.persistence.enabled -}}true{{- end -}}
{{- end -}}

{{- define "twinport.scheme" -}}
{{- if .Values.tls.enabled -}}HTTPS{{- else -}}HTTP{{- end -}}
{{- end -}}

{{/* Combinations that render but could not run are refused here, naming the value to change. */}}
{{- define "twinport.validate" -}}
{{- if not (has .Values.form (list "gateway" "sidecar")) -}}
{{- fail (printf "form: must be gateway or sidecar, got %q" .Values.form) -}}
{{- end -}}
{{- if not (has .Values.config.mode (list "development" "production")) -}}
{{- fail (printf "config.mode: must be development or production, got %q" .Values.config.mode) -}}
{{- end -}}
{{- if eq .Values.config.mode "production" -}}
{{- if not (or .Values.oidc.issuer .Values.oidc.existingSecret) -}}
{{- fail "oidc.issuer (or oidc.existingSecret): required in production mode, where people sign in to the management API through the city's OIDC provider" -}}
{{- end -}}
{{- if not (or .Values.oidc.audience .Values.oidc.existingSecret) -}}
{{- fail "oidc.audience (or oidc.existingSecret): required in production mode" -}}
{{- end -}}
{{- end -}}
{{- if and (not .Values.storage.urlSecretKey) (gt (int .Values.replicaCount) 1) -}}
{{- fail "replicaCount: SQLite is one file on one volume; set storage.urlSecretKey (PostgreSQL) to run more than one replica" -}}
{{- end -}}
{{- if and .Values.storage.urlSecretKey (not .Values.secret.auditLogKeyKey) -}}
{{- fail "secret.auditLogKeyKey: required with PostgreSQL, so every replica and every restarted pod signs the audit log with the key its stored checkpoints name" -}}
{{- end -}}
{{- if and .Values.tls.mutual (not .Values.tls.enabled) -}}
{{- fail "tls.mutual: needs tls.enabled and tls.secretName" -}}
{{- end -}}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) -}}
{{- fail "tls.secretName: required with tls.enabled (a Secret with tls.crt and tls.key)" -}}
{{- end -}}
{{- if eq .Values.form "sidecar" -}}
{{- if not .Values.sidecar.workload.name -}}
{{- fail "sidecar.workload.name: required in sidecar form (the workload the connector is added to)" -}}
{{- end -}}
{{- if not .Values.sidecar.podSelector -}}
{{- fail "sidecar.podSelector: required in sidecar form (the labels of the workload's pods, for the Services)" -}}
{{- end -}}
{{- if and (not .Values.storage.urlSecretKey) (not (has .Values.sidecar.workload.kind (list "Deployment" "StatefulSet"))) -}}
{{- fail (printf "sidecar.workload.kind: with SQLite the patch scales the workload to one replica, which a %s cannot be; use a Deployment or StatefulSet, or set storage.urlSecretKey (PostgreSQL)" .Values.sidecar.workload.kind) -}}
{{- end -}}
{{- if .Values.networkPolicy.enabled -}}
{{- include "twinport.validatePlatformIngress" . -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The platform's own rules share the policy with the connector's: one that names no port, or names one of the
connector's, would let its peers in there too, so each must name ports that are not ours. */}}
{{- define "twinport.validatePlatformIngress" -}}
{{- $ours := list (int .Values.containerPorts.dsp) (int .Values.containerPorts.management) (int .Values.containerPorts.local) -}}
{{- range $i, $rule := .Values.networkPolicy.platformIngress -}}
{{- if not $rule.ports -}}
{{- fail (printf "networkPolicy.platformIngress[%d]: name its ports; a rule without ports would admit its peers to the local endpoint and the management API too" $i) -}}
{{- end -}}
{{- range $rule.ports -}}
{{- if not (hasKey . "port") -}}
{{- fail (printf "networkPolicy.platformIngress[%d]: every port entry needs a port; one without admits every port, the local endpoint's too" $i) -}}
{{- end -}}
{{- if kindIs "string" .port -}}
{{- if has .port (list "dsp" "management" "local") -}}
{{- fail (printf "networkPolicy.platformIngress[%d]: port %s is the connector's; set networkPolicy.dspFrom, managementFrom or localFrom instead" $i .port) -}}
{{- end -}}
{{- else -}}
{{- $from := int .port -}}
{{- $to := int (default .port .endPort) -}}
{{- range $ours -}}
{{- if and (ge . $from) (le . $to) -}}
{{- fail (printf "networkPolicy.platformIngress[%d]: port %d is the connector's; set networkPolicy.dspFrom, managementFrom or localFrom instead" $i .) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Every name the local endpoint answers to: loopback (the sidecar's neighbours) and the local Service's names. */}}
{{- define "twinport.localHosts" -}}
{{- $svc := printf "%s-local" (include "twinport.fullname" .) -}}
{{- $hosts := list "localhost" "127.0.0.1" "::1" $svc (printf "%s.%s" $svc .Release.Namespace) (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.%s" $svc .Release.Namespace .Values.clusterDomain) -}}
{{- concat $hosts .Values.config.localHosts | uniq | toJson -}}
{{- end -}}

{{/* twinport.toml. Strings go through toJson: a JSON string is a valid TOML basic string. */}}
{{- define "twinport.config" -}}
participant_id = {{ .Values.config.participantId | toJson }}
{{- with .Values.config.publicUrl }}
public_url = {{ . | toJson }}
{{- end }}
mode = {{ .Values.config.mode | toJson }}
listen = "0.0.0.0:{{ int .Values.containerPorts.dsp }}"
management_listen = "0.0.0.0:{{ int .Values.containerPorts.management }}"
local_listen = "0.0.0.0:{{ int .Values.containerPorts.local }}"
local_hosts = {{ include "twinport.localHosts" . }}
data_dir = "/var/lib/twinport"
signing_key = "/etc/twinport/keys/signing-key.pem"
catalogue_dir = "/etc/twinport/catalogue"
log_format = {{ .Values.config.logFormat | toJson }}
shutdown_drain_seconds = {{ int .Values.shutdownDrainSeconds }}
# Secrets (management_token, storage_url, metrics_token) come from the Secret as TWINPORT_* environment variables.
{{- range $key, $value := .Values.config.settings }}
{{ $key }} = {{ $value | toJson }}
{{- end }}
{{ .Values.config.extra }}
{{- if .Values.tls.enabled }}

[tls]
cert = "/etc/twinport/tls/tls.crt"
key = "/etc/twinport/tls/tls.key"
{{- if .Values.tls.caKey }}
ca = "/etc/twinport/tls/ca.crt"
{{- end }}
mutual = {{ .Values.tls.mutual }}
{{- end }}
{{- if or .Values.oidc.issuer .Values.oidc.audience .Values.oidc.rolesClaim .Values.oidc.roles }}

[oidc]
{{- with .Values.oidc.issuer }}
issuer = {{ . | toJson }}
{{- end }}
{{- with .Values.oidc.audience }}
audience = {{ . | toJson }}
{{- end }}
{{- with .Values.oidc.rolesClaim }}
roles_claim = {{ . | toJson }}
{{- end }}
{{- with .Values.oidc.roles }}

[oidc.roles]
{{- range $role, $values := . }}
{{ $role }} = {{ $values | toJson }}
{{- end }}
{{- end }}
{{- end }}
{{ end -}}

{{- define "twinport.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- end -}}

{{/* The container's environment: secrets from the Secret (the static token in development mode only), then extraEnv. */}}
{{- define "twinport.env" -}}
{{- if and (eq .Values.config.mode "development") .Values.secret.managementTokenKey }}
{{ include "twinport.secretEnv" (dict "name" "TWINPORT_MANAGEMENT_TOKEN" "secret" .Values.secret.name "key" .Values.secret.managementTokenKey) }}
{{- end }}
{{- with .Values.storage.urlSecretKey }}
{{ include "twinport.secretEnv" (dict "name" "TWINPORT_STORAGE_URL" "secret" $.Values.secret.name "key" .) }}
{{- end }}
{{- with .Values.secret.metricsTokenKey }}
{{ include "twinport.secretEnv" (dict "name" "TWINPORT_TELEMETRY_METRICS_TOKEN" "secret" $.Values.secret.name "key" .) }}
{{- end }}
{{- with .Values.oidc.existingSecret }}
{{ include "twinport.secretEnv" (dict "name" "TWINPORT_OIDC_ISSUER" "secret" . "key" $.Values.oidc.issuerKey) }}
{{ include "twinport.secretEnv" (dict "name" "TWINPORT_OIDC_AUDIENCE" "secret" . "key" $.Values.oidc.audienceKey) }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The connector's container, as the gateway Deployment runs it and the sidecar patch adds it. */}}
{{- define "twinport.container" -}}
name: twinport
image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
imagePullPolicy: {{ .Values.image.pullPolicy }}
args: ["serve", "--config", "/etc/twinport/twinport.toml"]
{{- with include "twinport.env" . | trim }}
env:
  {{- . | nindent 2 }}
{{- end }}
{{- with .Values.extraEnvFrom }}
envFrom:
  {{- toYaml . | nindent 2 }}
{{- end }}
ports:
  - name: dsp
    containerPort: {{ .Values.containerPorts.dsp }}
  - name: management
    containerPort: {{ .Values.containerPorts.management }}
  - name: local
    containerPort: {{ .Values.containerPorts.local }}
# The management listener never asks for a client certificate, so the probes work with mutual TLS too. Ports are
# numbers, not names: in sidecar form the workload's containers may use the same port names.
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ .Values.containerPorts.management }}
    scheme: {{ include "twinport.scheme" . }}
  periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
  failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ .Values.containerPorts.management }}
    scheme: {{ include "twinport.scheme" . }}
  periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
  failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: twinport-config
    mountPath: /etc/twinport/twinport.toml
    subPath: twinport.toml
    readOnly: true
  - name: twinport-policies
    mountPath: /etc/twinport/catalogue/policies
    readOnly: true
  - name: twinport-resources
    mountPath: /etc/twinport/catalogue/resources
    readOnly: true
  - name: twinport-keys
    mountPath: /etc/twinport/keys
    readOnly: true
  - name: twinport-data
    mountPath: /var/lib/twinport
  {{- if .Values.secret.auditLogKeyKey }}
  - name: twinport-keys
    mountPath: /var/lib/twinport/audit-log-key.pem
    subPath: audit-log-key.pem
    readOnly: true
  {{- end }}
  {{- if .Values.tls.enabled }}
  - name: twinport-tls
    mountPath: /etc/twinport/tls
    readOnly: true
  {{- end }}
  - name: twinport-tmp
    mountPath: /tmp
  {{- with .Values.extraVolumeMounts }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .Values.resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The container's volumes. In sidecar form the pod's fsGroup is the workload's, so keys are readable by all. */}}
{{- define "twinport.volumes" -}}
{{- $keyMode := ternary 0444 0440 (eq .Values.form "sidecar") -}}
- name: twinport-config
  configMap:
    name: {{ include "twinport.fullname" . }}-config
- name: twinport-policies
  configMap:
    name: {{ include "twinport.fullname" . }}-policies
{{- /* Resources whose backends carry credentials come from a Secret, projected into the same directory. */}}
- name: twinport-resources
  {{- if .Values.catalogue.resourcesSecret }}
  projected:
    defaultMode: {{ $keyMode }}
    sources:
      - configMap:
          name: {{ include "twinport.fullname" . }}-resources
      - secret:
          name: {{ .Values.catalogue.resourcesSecret }}
  {{- else }}
  configMap:
    name: {{ include "twinport.fullname" . }}-resources
  {{- end }}
- name: twinport-keys
  secret:
    secretName: {{ .Values.secret.name }}
    defaultMode: {{ $keyMode }}
    items:
      - key: {{ .Values.secret.signingKeyKey }}
        path: signing-key.pem
      {{- with .Values.secret.auditLogKeyKey }}
      - key: {{ . }}
        path: audit-log-key.pem
      {{- end }}
- name: twinport-data
  {{- if include "twinport.claim" . }}
  persistentVolumeClaim:
    claimName: {{ include "twinport.fullname" . }}-data
  {{- else }}
  emptyDir: {}
  {{- end }}
{{- if .Values.tls.enabled }}
- name: twinport-tls
  secret:
    secretName: {{ .Values.tls.secretName }}
    defaultMode: {{ $keyMode }}
    items:
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
      {{- with .Values.tls.caKey }}
      - key: {{ . }}
        path: ca.crt
      {{- end }}
{{- end }}
- name: twinport-tmp
  emptyDir: {}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}
