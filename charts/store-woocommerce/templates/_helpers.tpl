{{/* SPDX-License-Identifier: Apache-2.0 */}}

{{/*
Prefix of every object name. Release names may be 53 characters; 40 leaves room
for the longest suffix ("-setup-r<revision>", "-wordpress-data") within 63.
*/}}
{{- define "store.fullname" -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "store.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The store's name: storeName, or the release name. */}}
{{- define "store.name" -}}
{{- .Values.storeName | default .Release.Name -}}
{{- end -}}

{{/* The shop's host. The schema already requires baseDomain; this guards --set baseDomain= . */}}
{{- define "store.host" -}}
{{- $domain := required "baseDomain is required: the shop is served at <storeName>.<baseDomain> (set baseDomain, e.g. shops.example.com)" .Values.baseDomain -}}
{{- printf "%s.%s" (include "store.name" .) $domain -}}
{{- end -}}

{{- define "store.scheme" -}}
{{- ternary "https" "http" .Values.ingress.tls.enabled -}}
{{- end -}}

{{- define "store.url" -}}
{{- printf "%s://%s" (include "store.scheme" .) (include "store.host" .) -}}
{{- end -}}

{{- define "store.adminEmail" -}}
{{- .Values.admin.email | default (printf "admin@%s" (include "store.host" .)) -}}
{{- end -}}

{{/*
Labels that select one component's pods. Called with (dict "root" $ "component" "web").
*/}}
{{- define "store.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of every object. Called with (dict "root" $ "component" "web"). */}}
{{- define "store.labels" -}}
helm.sh/chart: {{ include "store.chart" .root }}
{{ include "store.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: storeagent
{{- end -}}

{{/* Pod template labels: no chart version, so a chart bump alone restarts nothing. */}}
{{- define "store.podLabels" -}}
{{ include "store.selectorLabels" . }}
app.kubernetes.io/part-of: storeagent
{{- end -}}

{{- define "store.image" -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}

{{- define "store.mysqlHost" -}}
{{- printf "%s-mysql" (include "store.fullname" .) -}}
{{- end -}}

{{/*
Scheduling and pull settings shared by every pod.
*/}}
{{- define "store.podCommon" -}}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
WordPress configuration shared by the web pod and the setup Job. Both read the
same wp-config.php (written by the image's entrypoint on the volume), which takes
these variables at run time, so a changed value applies on the next upgrade.
*/}}
{{- define "store.wordpressEnv" -}}
- name: WORDPRESS_DB_HOST
  value: {{ include "store.mysqlHost" . | quote }}
- name: WORDPRESS_DB_NAME
  value: {{ .Values.database.name | quote }}
- name: WORDPRESS_DB_USER
  value: {{ .Values.database.user | quote }}
- name: WORDPRESS_DB_PASSWORD_FILE
  value: /etc/storeagent/credentials/mysql-password
- name: WORDPRESS_DB_CHARSET
  value: utf8mb4
- name: WORDPRESS_CONFIG_EXTRA
  value: |
    define('WP_HOME', {{ include "store.url" . | squote }});
    define('WP_SITEURL', {{ include "store.url" . | squote }});
    define('WP_ENVIRONMENT_TYPE', {{ .Values.wordpress.environmentType | squote }});
    define('FS_METHOD', 'direct');
    define('DISALLOW_FILE_EDIT', true);
    {{- with .Values.wordpress.configExtra }}
    {{- . | nindent 4 }}
    {{- end }}
{{- end -}}
