{{/* Chart name, release-qualified names and labels. Kubernetes names stop at 63 characters. */}}
{{- define "rgw.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "rgw.fullname" -}}
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

{{/* The name of one component's objects: the release's full name, shortened so "-<component>" fits in 63. */}}
{{- define "rgw.componentName" -}}
{{- $suffix := printf "-%s" .name -}}
{{- printf "%s%s" (include "rgw.fullname" .root | trunc (int (sub 63 (len $suffix))) | trimSuffix "-") $suffix -}}
{{- end -}}

{{- define "rgw.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The recommended labels (app.kubernetes.io/*) of every object; `name` adds the component. */}}
{{- define "rgw.labels" -}}
helm.sh/chart: {{ include "rgw.chart" .root }}
{{ include "rgw.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Values.image.tag | default .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: {{ include "rgw.name" .root }}
{{- end -}}

{{- define "rgw.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rgw.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}
{{- end -}}

{{- define "rgw.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "rgw.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "rgw.secretName" -}}
{{- default (include "rgw.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{/*
One component's settings: its entry under `components` over `componentDefaults`. Sprig's merge
cannot let a `false` override a `true`, so the on/off switches are taken from the component when it sets them.
*/}}
{{- define "rgw.component" -}}
{{- $c := index .root.Values.components .name -}}
{{- $d := .root.Values.componentDefaults -}}
{{- $merged := merge (deepCopy $c) (deepCopy $d) -}}
{{- range $block := list "autoscaling" "pdb" "keda" -}}
{{- $own := index $c $block | default dict -}}
{{- if and (hasKey $merged $block) (hasKey $own "enabled") -}}
{{- $_ := set (index $merged $block) "enabled" $own.enabled -}}
{{- end -}}
{{- end -}}
{{- toYaml $merged -}}
{{- end -}}

{{/*
A distributed install cannot work without the platform: refuse to render, naming what is missing,
rather than start pods that each fall back to a SQLite file of their own.
*/}}
{{- define "rgw.validate" -}}
{{- if not .Values.existingSecret -}}
{{- $c := .Values.config -}}
{{- $missing := list -}}
{{- if not $c.database.url }}{{ $missing = append $missing "the database (config.database.url: DATABASE_URL, Postgres)" }}{{ end -}}
{{- if not $c.cache.url }}{{ $missing = append $missing "the cache (config.cache.url: REDIS_URL, Redis)" }}{{ end -}}
{{- if not $c.queue.url }}{{ $missing = append $missing "the queue (config.queue.url: AMQP_URL, RabbitMQ)" }}{{ end -}}
{{- if not $c.objectStore.bucket }}{{ $missing = append $missing "the object store (config.objectStore.bucket: S3_BUCKET, plus endpoint and keys for MinIO)" }}{{ end -}}
{{- if not $c.vectorStore.url }}{{ $missing = append $missing "the vector store (config.vectorStore.url: QDRANT_URL)" }}{{ end -}}
{{- if not $c.internalToken }}{{ $missing = append $missing "the internal token (config.internalToken: INTERNAL_TOKEN, shared by every component)" }}{{ end -}}
{{- if $missing -}}
{{- fail (printf "\n\nresponses-gateway: a distributed install needs %s.\nSet them in values, or name with existingSecret a Secret that holds DATABASE_URL, REDIS_URL, AMQP_URL, S3_BUCKET, QDRANT_URL and INTERNAL_TOKEN.\n" (join "; " $missing)) -}}
{{- end -}}
{{- end -}}
{{- $roles := list -}}
{{- range $name, $c := .Values.components -}}
{{- if not (has $c.role (list "gateway" "api" "worker")) -}}
{{- fail (printf "responses-gateway: components.%s.role must be gateway, api or worker (got %v)" $name $c.role) -}}
{{- end -}}
{{- $roles = append $roles $c.role -}}
{{- end -}}
{{- if not (has "gateway" $roles) -}}
{{- fail "responses-gateway: components must include the gateway (role: gateway)" -}}
{{- end -}}
{{- end -}}
