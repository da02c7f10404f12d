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

{{/* The host the shop's URLs use: domains.primary, or <storeName>.<baseDomain>. */}}
{{- define "store.primaryHost" -}}
{{- with .Values.domains.primary -}}
{{- if not (has . $.Values.domains.extra) -}}
{{- fail (printf "domains.primary %s must be one of domains.extra: the Ingress serves only those hosts" .) -}}
{{- end -}}
{{- . -}}
{{- else -}}
{{- include "store.host" . -}}
{{- end -}}
{{- end -}}

{{- define "store.url" -}}
{{- printf "%s://%s" (include "store.scheme" .) (include "store.primaryHost" .) -}}
{{- end -}}

{{/* The TLS Secret (and cert-manager Certificate) of one of domains.extra: named by a hash of the host,
so that adding or removing another domain leaves its certificate alone. Called with (dict "root" $ "host" h). */}}
{{- define "store.domainTlsSecret" -}}
{{- printf "%s-tls-%s" (include "store.fullname" .root) (sha256sum .host | trunc 10) -}}
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
Scheduling and pull settings shared by every pod (affinity: each template, see store.withWebPodAffinity).
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
{{- include "store.mailEnv" . }}
- name: WORDPRESS_CONFIG_EXTRA
  value: |
    define('WP_HOME', {{ include "store.url" . | squote }});
    define('WP_SITEURL', {{ include "store.url" . | squote }});
    define('WP_ENVIRONMENT_TYPE', {{ .Values.wordpress.environmentType | squote }});
    define('FS_METHOD', 'direct');
    define('DISALLOW_FILE_EDIT', true);
    define('WP_MEMORY_LIMIT', {{ .Values.wordpress.php.memoryLimit | squote }});
    define('WP_MAX_MEMORY_LIMIT', {{ .Values.wordpress.php.memoryLimit | squote }});
    {{- if .Values.cron.enabled }}
    /* Scheduled events run from the <release>-cron CronJob, not from page views. */
    define('DISABLE_WP_CRON', true);
    {{- end }}
    {{- with .Values.wordpress.configExtra }}
    {{- . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/*
A memory amount in MiB: Kubernetes (Ki, Mi, Gi, Ti), PHP and MySQL (K, M, G, T; binary in both) or bytes.
*/}}
{{- define "store.mi" -}}
{{- $s := toString . -}}
{{- $num := regexFind "^[0-9]+" $s -}}
{{- $n := $num | int64 -}}
{{- $u := trimPrefix $num $s -}}
{{- if not $num -}}{{- fail (printf "memory amount %q is not a number with a unit" $s) -}}
{{- else if or (eq $u "Mi") (eq $u "M") -}}{{- $n -}}
{{- else if or (eq $u "Gi") (eq $u "G") -}}{{- mul $n 1024 -}}
{{- else if or (eq $u "Ti") (eq $u "T") -}}{{- mul $n 1048576 -}}
{{- else if or (eq $u "Ki") (eq $u "K") -}}{{- div (add $n 1023) 1024 -}}
{{- else if eq $u "" -}}{{- div (add $n 1048575) 1048576 -}}
{{- else -}}{{- fail (printf "memory amount %q: unknown unit %q" $s $u) -}}
{{- end -}}
{{- end -}}

{{/*
The memory arithmetic of README.md ("Memory"): refuses values whose worst case exceeds a container's
limit, so an out-of-memory kill under load is found at install time instead.
*/}}
{{- define "store.memoryChecks" -}}
{{- $wp := .Values.wordpress -}}
{{- $wpLimit := include "store.mi" $wp.resources.limits.memory | int64 -}}
{{- $wpNeed := add (mul $wp.apache.maxRequestWorkers (include "store.mi" $wp.php.memoryLimit | int64)) $wp.php.opcacheMemory 48 -}}
{{- if gt $wpNeed $wpLimit -}}
{{- fail (printf "wordpress memory: %d Apache workers x PHP memory_limit %s + opcache %dM + 48M for Apache itself = %dMi, above wordpress.resources.limits.memory %s (%dMi); lower wordpress.apache.maxRequestWorkers or wordpress.php.memoryLimit, or raise the limit" (int64 $wp.apache.maxRequestWorkers) $wp.php.memoryLimit (int64 $wp.php.opcacheMemory) $wpNeed $wp.resources.limits.memory $wpLimit) -}}
{{- end -}}
{{- $my := .Values.mysql -}}
{{- $myLimit := include "store.mi" $my.resources.limits.memory | int64 -}}
{{- $c := $my.config -}}
{{- $myNeed := add 208 (include "store.mi" $c.innodbBufferPoolSize | int64) (include "store.mi" $c.innodbLogBufferSize | int64) (include "store.mi" $c.temptableMaxRam | int64) (mul $c.maxConnections 4) -}}
{{- if gt $myNeed $myLimit -}}
{{- fail (printf "mysql memory: 208M for mysqld itself + innodb_buffer_pool_size %s + innodb_log_buffer_size %s + temptable_max_ram %s + %d connections x 4M = %dMi, above mysql.resources.limits.memory %s (%dMi); lower mysql.config or raise the limit" $c.innodbBufferPoolSize $c.innodbLogBufferSize $c.temptableMaxRam (int64 $c.maxConnections) $myNeed $my.resources.limits.memory $myLimit) -}}
{{- end -}}
{{- $setupNeed := add (include "store.mi" .Values.setup.phpMemoryLimit | int64) 32 -}}
{{- if gt $setupNeed (include "store.mi" .Values.setup.resources.limits.memory | int64) -}}
{{- fail (printf "setup memory: PHP memory_limit %s + 32M above setup.resources.limits.memory %s" .Values.setup.phpMemoryLimit .Values.setup.resources.limits.memory) -}}
{{- end -}}
{{- if .Values.cron.enabled -}}
{{- $cronNeed := add (include "store.mi" .Values.cron.phpMemoryLimit | int64) 32 -}}
{{- if gt $cronNeed (include "store.mi" .Values.cron.resources.limits.memory | int64) -}}
{{- fail (printf "cron memory: PHP memory_limit %s + 32M above cron.resources.limits.memory %s" .Values.cron.phpMemoryLimit .Values.cron.resources.limits.memory) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Pods that mount the web pod's volume (setup Job, cron runs) are scheduled onto the web pod's node:
a ReadWriteOnce volume attaches to one node. The term is added to the user's affinity.
*/}}
{{- define "store.withWebPodAffinity" -}}
{{- $aff := deepCopy (.Values.affinity | default dict) -}}
{{- $pa := get $aff "podAffinity" | default dict -}}
{{- $terms := get $pa "requiredDuringSchedulingIgnoredDuringExecution" | default list -}}
{{- $term := dict "labelSelector" (dict "matchLabels" (dict "app.kubernetes.io/name" .Chart.Name "app.kubernetes.io/instance" .Release.Name "app.kubernetes.io/component" "web")) "topologyKey" "kubernetes.io/hostname" -}}
{{- $_ := set $pa "requiredDuringSchedulingIgnoredDuringExecution" (append $terms $term) -}}
{{- $_ := set $aff "podAffinity" $pa -}}
affinity:
  {{- toYaml $aff | nindent 2 }}
{{- end -}}

{{/*
A claim's size: the value, except that an existing claim keeps its size when its StorageClass cannot
expand (or the value would shrink it), since the API server refuses that change and the upgrade would
fail. Called with (dict "root" $ "name" CLAIM "size" VALUE "class" VALUE-CLASS); writes
"size<TAB>note", the note saying why a size was kept (empty otherwise).
*/}}
{{- define "store.claimSize" -}}
{{- $want := .size -}}
{{- $old := lookup "v1" "PersistentVolumeClaim" .root.Release.Namespace .name -}}
{{- $have := "" -}}
{{- if $old -}}{{- $have = dig "spec" "resources" "requests" "storage" "" $old -}}{{- end -}}
{{- if or (not $have) (eq (toString $have) (toString $want)) -}}
{{- printf "%s\t" $want -}}
{{- else -}}
{{- $className := dig "spec" "storageClassName" "" $old -}}
{{- $class := dict -}}
{{- if $className -}}{{- $class = lookup "storage.k8s.io/v1" "StorageClass" "" $className -}}{{- end -}}
{{- $expandable := and $class (eq (toString (get $class "allowVolumeExpansion")) "true") -}}
{{- $grow := gt (include "store.mi" $want | int64) (include "store.mi" $have | int64) -}}
{{- if and $expandable $grow -}}
{{- printf "%s\t" $want -}}
{{- else if not $grow -}}
{{- printf "%s\tkept %s: a claim cannot shrink to %s" $have $have $want -}}
{{- else -}}
{{- printf "%s\tkept %s: StorageClass %q does not allow volume expansion (requested %s)" $have $have ($className | default "(none)") $want -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Mail: the environment the must-use plugin (files/storeagent-mail.php) reads, and the Secret with
the SMTP password mounted as a file (never an environment variable, so never in `kubectl describe`).
*/}}
{{- define "store.mailEnv" -}}
{{- $m := .Values.mail -}}
{{- if $m.smtp.host }}
- name: STOREAGENT_SMTP_HOST
  value: {{ $m.smtp.host | quote }}
- name: STOREAGENT_SMTP_PORT
  value: {{ $m.smtp.port | quote }}
- name: STOREAGENT_SMTP_TLS
  value: {{ $m.smtp.tls | quote }}
- name: STOREAGENT_SMTP_USER
  value: {{ $m.smtp.user | quote }}
{{- if $m.smtp.passwordSecret }}
- name: STOREAGENT_SMTP_PASSWORD_FILE
  value: /etc/storeagent/smtp/smtp-password
{{- end }}
{{- end }}
{{- with $m.from }}
- name: STOREAGENT_MAIL_FROM
  value: {{ . | quote }}
{{- end }}
{{- with $m.fromName }}
- name: STOREAGENT_MAIL_FROM_NAME
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{- define "store.mailMounts" -}}
{{- if and .Values.mail.smtp.host .Values.mail.smtp.passwordSecret }}
- name: smtp
  mountPath: /etc/storeagent/smtp
  readOnly: true
{{- end }}
{{- end -}}

{{- define "store.mailVolumes" -}}
{{- if and .Values.mail.smtp.host .Values.mail.smtp.passwordSecret }}
- name: smtp
  secret:
    secretName: {{ .Values.mail.smtp.passwordSecret }}
    defaultMode: 0440
    items:
      - key: smtp-password
        path: smtp-password
{{- end }}
{{- end -}}

{{- define "store.woocommerceUrl" -}}
{{- .Values.woocommerce.url | default (printf "https://downloads.wordpress.org/plugin/woocommerce.%s.zip" .Values.woocommerce.version) -}}
{{- end -}}
