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

{{/* An image reference: "repository@digest" when a digest is set (the tag is then ignored: a digest names
     exactly one image), else "repository:tag" with the tag defaulting to the chart's appVersion (plus a
     suffix, e.g. Triton's variant). The registry is put in front of percept's own images only. */}}
{{- define "percept.image" -}}
{{- $repository := .image.repository -}}
{{- if and .root.Values.image.registry (not .external) -}}
{{- $repository = printf "%s/%s" (trimSuffix "/" .root.Values.image.registry) .image.repository -}}
{{- end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default (printf "%s%s" .root.Chart.AppVersion (default "" .suffix)) .image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The uid and gid of every container (>= 10000: no clash with a host account; the images' USER). */}}
{{- define "percept.uid" -}}10001{{- end -}}

{{/* Where a Secret is mounted as files: percept.secretDir "gateway" -> /var/run/secrets/percept/gateway */}}
{{- define "percept.secretDir" -}}
{{- printf "/var/run/secrets/percept/%s" . -}}
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
  runAsUser: {{ include "percept.uid" . }}
  runAsGroup: {{ include "percept.uid" . }}
  fsGroup: {{ include "percept.uid" . }}
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

{{/* The generated settings (services/settings_docs.py), read once. */}}
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

{{/* NetworkPolicy rules (templates/networkpolicy.yaml). */}}

{{/* Egress to DNS (UDP and TCP 53) at networkPolicy.dnsPeers, or anywhere on port 53 when that is empty. */}}
{{- define "percept.dnsEgress" -}}
- ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
  {{- with .Values.networkPolicy.dnsPeers }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/* Egress to one component's pods on one port: percept.egressTo (dict "root" $ "component" "triton" "port" 8001) */}}
{{- define "percept.egressTo" -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "percept.selectorLabels" (dict "root" .root "component" .component) | nindent 10 }}
  ports:
    - {port: {{ .port }}, protocol: TCP}
{{- end -}}

{{/* Ingress from some components' pods on one port: percept.ingressFrom (dict "root" $ "components" (list "gateway") "port" 50071) */}}
{{- define "percept.ingressFrom" -}}
{{- $root := .root -}}
- from:
    {{- range .components }}
    - podSelector:
        matchLabels:
          {{- include "percept.selectorLabels" (dict "root" $root "component" .) | nindent 10 }}
    {{- end }}
  ports:
    - {port: {{ .port }}, protocol: TCP}
{{- end -}}

{{/* Scrape ingress on a metrics port from networkPolicy.monitoringNamespaceLabels (nothing when empty). */}}
{{- define "percept.metricsIngress" -}}
{{- with .root.Values.networkPolicy.monitoringNamespaceLabels -}}
- from:
    - namespaceSelector:
        matchLabels:
          {{- toYaml . | nindent 10 }}
  ports:
    - {port: {{ $.port }}, protocol: TCP}
{{- end -}}
{{- end -}}

{{/* The TCP port of a URL: the explicit one, else 80 for http and 443 otherwise. */}}
{{- define "percept.urlPort" -}}
{{- $url := urlParse . -}}
{{- $last := last (splitList ":" $url.host) -}}
{{- if and (contains ":" $url.host) (regexMatch "^[0-9]+$" $last) -}}
{{- $last -}}
{{- else if eq $url.scheme "http" -}}
80
{{- else -}}
443
{{- end -}}
{{- end -}}
