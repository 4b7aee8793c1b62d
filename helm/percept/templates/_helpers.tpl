{{/* Names, labels and the shared pod/container hardening of every workload. */}}

{{- define "percept.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "percept.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A component's object name: percept.component (dict "root" $ "component" "gateway") */}}
{{- define "percept.component" -}}
{{- printf "%s-%s" (include "percept.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "percept.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: percept
{{ include "percept.selectorLabels" . }}
{{- end -}}

{{- define "percept.selectorLabels" -}}
app.kubernetes.io/name: {{ include "percept.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* An image reference; the tag defaults to the chart's appVersion (plus a suffix, e.g. Triton's variant). */}}
{{- define "percept.image" -}}
{{- $registry := .root.Values.image.registry -}}
{{- $tag := default (printf "%s%s" .root.Chart.AppVersion (default "" .suffix)) .image.tag -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" $registry) .image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Pod-level hardening: restricted Pod Security Standard, no service-account token. */}}
{{- define "percept.podSecurity" -}}
automountServiceAccountToken: false
{{- with .root.Values.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: {{ .uid }}
  runAsGroup: {{ .uid }}
  fsGroup: {{ .uid }}
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/* Container-level hardening, the same for every container of the chart. */}}
{{- define "percept.containerSecurity" -}}
securityContext:
  runAsNonRoot: true
  allowPrivilegeEscalation: false
  privileged: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/* The generated settings (services/common/settings_export.py), read once. */}}
{{- define "percept.generatedSettings" -}}
{{- .Files.Get "files/settings.generated.yaml" -}}
{{- end -}}

{{/* The shared limits: generated defaults, overridden by .Values.sharedSettings (known names only). */}}
{{- define "percept.sharedSettings" -}}
{{- $generated := (include "percept.generatedSettings" . | fromYaml).shared -}}
{{- range $name, $value := .Values.sharedSettings -}}
{{- if not (hasKey $generated $name) -}}
{{- fail (printf "sharedSettings.%s is not a shared setting; known: %s" $name (keys $generated | sortAlpha | join ", ")) -}}
{{- end -}}
{{- end -}}
{{- $merged := dict -}}
{{- range $name, $value := $generated -}}
{{- $_ := set $merged $name (toString (index $.Values.sharedSettings $name | default $value)) -}}
{{- end -}}
{{- toYaml $merged -}}
{{- end -}}

{{/* A component's default port from the generated settings: percept.port (dict "root" $ "component" "sandbox" "port" "grpc") */}}
{{- define "percept.port" -}}
{{- $ports := (include "percept.generatedSettings" .root | fromYaml).ports -}}
{{- index (index $ports .component) .port -}}
{{- end -}}

{{/* Writable paths on a read-only root: size-limited emptyDirs. */}}
{{- define "percept.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .sizeLimit }}
{{- end -}}

{{- define "percept.checksums" -}}
checksum/settings: {{ include (print .root.Template.BasePath "/configmap-settings.yaml") .root | sha256sum }}
{{- end -}}

{{- define "percept.sandboxHeadless" -}}
{{- printf "%s-headless" (include "percept.component" (dict "root" . "component" "sandbox")) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
