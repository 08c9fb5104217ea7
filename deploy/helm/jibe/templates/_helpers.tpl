{{/* jibe.fullname is the name of every object of the release. */}}
{{- define "jibe.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* jibe.selectorLabels select the agent's pod. */}}
{{- define "jibe.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* jibe.labels go on every object. */}}
{{- define "jibe.labels" -}}
{{ include "jibe.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* jibe.serviceAccountName is the agent's service account. */}}
{{- define "jibe.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "jibe.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* jibe.image is the image reference: by digest when one is given. */}}
{{- define "jibe.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* jibe.port is the port of config.server.listen (default 8080). */}}
{{- define "jibe.port" -}}
{{- $listen := "" -}}
{{- with .Values.config.server -}}{{- $listen = .listen | default "" -}}{{- end -}}
{{- if $listen -}}{{- splitList ":" $listen | last -}}{{- else -}}8080{{- end -}}
{{- end -}}

{{/* jibe.stateDir is config.stateDir (default /var/lib/jibe). */}}
{{- define "jibe.stateDir" -}}
{{- .Values.config.stateDir | default "/var/lib/jibe" -}}
{{- end -}}

{{/* jibe.inventoryRule lets Jibe keep its inventory ConfigMaps. */}}
{{- define "jibe.inventoryRule" -}}
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch, create, patch, update, delete]
{{- end -}}

{{/* jibe.config is the agent configuration: config, with state.kubernetes
from ha when it is enabled (in the release's namespace). */}}
{{- define "jibe.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- if .Values.ha.enabled -}}
{{- if .Values.persistence.enabled -}}
{{- fail "ha.enabled keeps the journal in the cluster: set persistence.enabled to false (the state directory holds only Git clones)" -}}
{{- end -}}
{{- $kube := dict "namespace" .Release.Namespace "name" (.Values.ha.name | default (include "jibe.fullname" .)) "sharding" .Values.ha.sharding "leaseDuration" .Values.ha.leaseDuration "renewDeadline" .Values.ha.renewDeadline "retryPeriod" .Values.ha.retryPeriod -}}
{{- $state := get $config "state" | default dict -}}
{{- $_ := set $state "kubernetes" $kube -}}
{{- $_ = set $config "state" $state -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}
