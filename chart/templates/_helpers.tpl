{{/* Chart name, possibly overridden. */}}
{{- define "linkerd-cert-rotator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified name of the release's objects. Truncated to 52 characters: the CronJob controller
appends an 11-character suffix to Job names, and Job names end up in a 63-character label.
*/}}
{{- define "linkerd-cert-rotator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "linkerd-cert-rotator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "linkerd-cert-rotator.labels" -}}
helm.sh/chart: {{ include "linkerd-cert-rotator.chart" . }}
{{ include "linkerd-cert-rotator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels that identify the release's pods. */}}
{{- define "linkerd-cert-rotator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "linkerd-cert-rotator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The ServiceAccount the job runs as. */}}
{{- define "linkerd-cert-rotator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "linkerd-cert-rotator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Image reference: repository[:tag][@digest]; the tag defaults to appVersion unless a digest pins the image. */}}
{{- define "linkerd-cert-rotator.image" -}}
{{- $image := .Values.image }}
{{- if $image.digest }}
{{- if $image.tag }}
{{- printf "%s:%s@%s" $image.repository $image.tag $image.digest }}
{{- else }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- end }}
{{- else }}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) }}
{{- end }}
{{- end }}

{{/*
Namespaces where the rotator may restart workloads when rbac.restrictToNamespaces is set (JSON list):
the listed ones, the Linkerd namespace and the extension namespaces. Empty when not restricted.
*/}}
{{- define "linkerd-cert-rotator.workloadNamespaces" -}}
{{- $namespaces := list }}
{{- if .Values.rbac.restrictToNamespaces }}
{{- $namespaces = concat .Values.rbac.restrictToNamespaces (list .Values.rotator.linkerdNamespace) .Values.rbac.controlPlaneNamespaces | uniq }}
{{- end }}
{{- toJson $namespaces }}
{{- end }}

{{/*
The includeNamespaces the rotator runs with (JSON list): the user's, or, when workloads are restricted
to some namespaces, those namespaces. A user's list that reaches beyond them is refused.
*/}}
{{- define "linkerd-cert-rotator.includeNamespaces" -}}
{{- $permitted := include "linkerd-cert-rotator.workloadNamespaces" . | fromJsonArray }}
{{- $wanted := .Values.rotator.includeNamespaces }}
{{- if and $permitted (not $wanted) }}
{{- $wanted = $permitted }}
{{- end }}
{{- if $permitted }}
{{- range $wanted }}
{{- if not (has . $permitted) }}
{{- fail (printf "rotator.includeNamespaces lists %q, which rbac.restrictToNamespaces does not permit (permitted: %s)" . (join ", " $permitted)) }}
{{- end }}
{{- end }}
{{- end }}
{{- toJson $wanted }}
{{- end }}

{{/* Namespace of the rotation lock Lease: rotator.lockNamespace, else the Linkerd namespace (the CLI's default, so a run by hand meets the CronJob's Lease). */}}
{{- define "linkerd-cert-rotator.lockNamespace" -}}
{{- default .Values.rotator.linkerdNamespace .Values.rotator.lockNamespace }}
{{- end }}

{{/* LCR_* environment variables from the rotator block; empty strings and lists are left to the CLI's defaults. */}}
{{- define "linkerd-cert-rotator.rotatorEnv" -}}
{{- $include := include "linkerd-cert-rotator.includeNamespaces" . | fromJsonArray }}
{{- range $key, $value := .Values.rotator }}
{{- if eq $key "includeNamespaces" }}
{{- $value = $include }}
{{- end }}
{{- if kindIs "slice" $value }}
{{- $value = join "," $value }}
{{- end }}
{{- if or (kindIs "bool" $value) (ne (toString $value) "") }}
- name: LCR_{{ snakecase $key | upper }}
  value: {{ toString $value | quote }}
{{- end }}
{{- end }}
{{- with .Values.webhookUrlSecret.name }}
- name: LCR_WEBHOOK_URL
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.webhookUrlSecret.key }}
{{- end }}
{{- end }}

{{/*
Seconds in a duration, as a string: Go durations of cert-manager (`8760h0m0s`, `1h30m`) and the
rotator's (`25d`, `300s`, `250ms`, a bare number of seconds). Callers convert with float64.
*/}}
{{- define "linkerd-cert-rotator.seconds" -}}
{{- $text := toString . | trim }}
{{- $total := 0.0 }}
{{- if regexMatch "^[0-9]+(\\.[0-9]+)?$" $text }}
{{- $total = float64 $text }}
{{- else }}
{{- $factors := dict "ns" 0.000000001 "us" 0.000001 "µs" 0.000001 "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0 "d" 86400.0 }}
{{- range regexFindAll "[0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h|d)" $text -1 }}
{{- $unit := regexFind "(ns|us|µs|ms|s|m|h|d)$" . }}
{{- $total = addf $total (mulf (trimSuffix $unit . | float64) (get $factors $unit)) }}
{{- end }}
{{- end }}
{{- printf "%.0f" $total }}
{{- end }}

{{/*
Refuses certificates.create values that would let cert-manager renew the trust anchor on its own
before the rotator's policy makes a rotation due (cert-manager restarts nothing: the next daily issuer
renewal would chain to an anchor no proxy trusts yet), or that make every run start a rotation.
*/}}
{{- define "linkerd-cert-rotator.validateCertificates" -}}
{{- $r := .Values.rotator }}
{{- $c := .Values.certificates }}
{{- $duration := include "linkerd-cert-rotator.seconds" $c.anchor.duration | float64 }}
{{- $renewBefore := include "linkerd-cert-rotator.seconds" $c.anchor.renewBefore | float64 }}
{{- $rotateAfter := include "linkerd-cert-rotator.seconds" $r.rotateAfter | float64 }}
{{- $rotateBeforeExpiry := include "linkerd-cert-rotator.seconds" $r.rotateBeforeExpiry | float64 }}
{{- if ge $renewBefore $duration }}
{{- fail (printf "certificates.anchor.renewBefore (%v) must be shorter than certificates.anchor.duration (%v)" $c.anchor.renewBefore $c.anchor.duration) }}
{{- end }}
{{- if le (subf $duration $renewBefore) $rotateAfter }}
{{- fail (printf "certificates.anchor.renewBefore (%v) lets cert-manager renew the anchor on its own %s after issue, before rotator.rotateAfter (%v) makes a rotation due: keep renewBefore a safety net close to expiry (default 720h)" $c.anchor.renewBefore (printf "%.0fh" (divf (subf $duration $renewBefore) 3600.0)) $r.rotateAfter) }}
{{- end }}
{{- if ge $renewBefore $rotateBeforeExpiry }}
{{- fail (printf "certificates.anchor.renewBefore (%v) lets cert-manager renew the anchor on its own before rotator.rotateBeforeExpiry (%v) makes a rotation due: make renewBefore shorter than rotateBeforeExpiry" $c.anchor.renewBefore $r.rotateBeforeExpiry) }}
{{- end }}
{{- if ge $rotateBeforeExpiry $duration }}
{{- fail (printf "rotator.rotateBeforeExpiry (%v) is not shorter than certificates.anchor.duration (%v): every run would find a fresh anchor due and start a new rotation" $r.rotateBeforeExpiry $c.anchor.duration) }}
{{- end }}
{{- $issuerDuration := include "linkerd-cert-rotator.seconds" $c.issuer.duration | float64 }}
{{- $issuerRenewBefore := include "linkerd-cert-rotator.seconds" $c.issuer.renewBefore | float64 }}
{{- if ge $issuerRenewBefore $issuerDuration }}
{{- fail (printf "certificates.issuer.renewBefore (%v) must be shorter than certificates.issuer.duration (%v)" $c.issuer.renewBefore $c.issuer.duration) }}
{{- end }}
{{- end }}

{{/* Directory in the container where peer NAME's kubeconfig Secret is mounted (multicluster.peers). */}}
{{- define "linkerd-cert-rotator.peerDir" -}}
{{- printf "/etc/linkerd-cert-rotator/peers/%s" . }}
{{- end }}

{{/*
LCR_PEERS and LCR_PEER_KUBECONFIG of multicluster.peers: each peer as NAME or NAME=CONTEXT, and the
kubeconfig files of all peers (merged by the rotator like KUBECONFIG). Empty without peers.
*/}}
{{- define "linkerd-cert-rotator.peerEnv" -}}
{{- $peers := list }}
{{- $files := list }}
{{- range .Values.multicluster.peers }}
{{- $peers = append $peers (ternary (printf "%s=%s" .name .context) .name (not (empty .context))) }}
{{- $files = append $files (printf "%s/kubeconfig" (include "linkerd-cert-rotator.peerDir" .name)) }}
{{- end }}
{{- if $peers }}
- name: LCR_PEERS
  value: {{ join "," $peers | quote }}
- name: LCR_PEER_KUBECONFIG
  value: {{ join ":" $files | quote }}
{{- end }}
{{- end }}

{{/* Refuses multicluster and peerAccess values that contradict each other. */}}
{{- define "linkerd-cert-rotator.validateMulticluster" -}}
{{- $r := .Values.rotator }}
{{- $peers := .Values.multicluster.peers }}
{{- if and $peers .Values.peerAccess.enabled }}
{{- fail "multicluster.peers and peerAccess.enabled exclude each other: list the peers in the primary cluster's release, and set peerAccess.enabled in each peer's (docs/multicluster.md)" }}
{{- end }}
{{- if $peers }}
{{- if not $r.clusterName }}
{{- fail "multicluster.peers needs rotator.clusterName: this cluster's name as the peers' Links call it (linkerd multicluster link --cluster-name)" }}
{{- end }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $r.clusterName) }}
{{- fail (printf "rotator.clusterName %q is not a cluster name of Linkerd multicluster (lower-case letters, digits and '-')" $r.clusterName) }}
{{- end }}
{{- $seen := list $r.clusterName }}
{{- range $peers }}
{{- if has .name $seen }}
{{- fail (printf "multicluster.peers: %q is named twice (or is rotator.clusterName, this cluster)" .name) }}
{{- end }}
{{- $seen = append $seen .name }}
{{- end }}
{{- if not .Values.rbac.create }}
{{- fail "multicluster.peers needs rbac.create=true: the rotator reads this cluster's anchor Secret, which only the chart's RBAC grants by name" }}
{{- end }}
{{- end }}
{{- if and .Values.peerAccess.enabled .Values.peerAccess.tokenSecret (not .Values.serviceAccount.create) (not .Values.serviceAccount.name) }}
{{- fail "peerAccess.tokenSecret with serviceAccount.create=false would mint a long-lived token of the namespace's default ServiceAccount: set serviceAccount.name" }}
{{- end }}
{{- end }}

{{/* Refuses values that contradict each other; rendered once, from the CronJob template. */}}
{{- define "linkerd-cert-rotator.validate" -}}
{{- $r := .Values.rotator }}
{{- include "linkerd-cert-rotator.validateMulticluster" . }}
{{- $_ := include "linkerd-cert-rotator.includeNamespaces" . }}
{{- range $r.includeNamespaces }}
{{- if has . $r.excludeNamespaces }}
{{- fail (printf "namespace %q is in both rotator.includeNamespaces and rotator.excludeNamespaces" .) }}
{{- end }}
{{- end }}
{{- /* The pod's settings: a peer's release has no pod. */}}
{{- if not .Values.peerAccess.enabled }}
{{- if and $r.context (not $r.kubeconfig) }}
{{- fail "rotator.context needs rotator.kubeconfig: the in-cluster configuration has no contexts" }}
{{- end }}
{{- if and (not .Values.serviceAccount.automount) (not $r.kubeconfig) }}
{{- fail "serviceAccount.automount=false leaves the rotator without credentials: set rotator.kubeconfig (and mount it with extraVolumes) or keep automount" }}
{{- end }}
{{- if and $r.kubeconfig (not .Values.extraVolumeMounts) }}
{{- fail "rotator.kubeconfig points at a file in the container: mount it with extraVolumes and extraVolumeMounts" }}
{{- end }}
{{- end }}
{{- if eq $r.anchorSecret $r.previousAnchorSecret }}
{{- fail "rotator.anchorSecret and rotator.previousAnchorSecret must differ (both live in rotator.trustNamespace)" }}
{{- end }}
{{- if and (eq $r.trustNamespace $r.linkerdNamespace) (eq $r.issuerSecret $r.anchorSecret) }}
{{- fail "rotator.issuerSecret and rotator.anchorSecret name the same Secret (trustNamespace equals linkerdNamespace)" }}
{{- end }}
{{- if and (eq $r.trustNamespace $r.linkerdNamespace) (eq $r.issuerSecret $r.previousAnchorSecret) }}
{{- fail "rotator.issuerSecret and rotator.previousAnchorSecret name the same Secret (trustNamespace equals linkerdNamespace)" }}
{{- end }}
{{- if and (eq $r.trustNamespace $r.linkerdNamespace) (eq $r.issuerCertificate $r.anchorCertificate) }}
{{- fail "rotator.issuerCertificate and rotator.anchorCertificate name the same Certificate (trustNamespace equals linkerdNamespace)" }}
{{- end }}
{{- if and .Values.rbac.create (not .Values.serviceAccount.create) (not .Values.serviceAccount.name) }}
{{- fail "rbac.create=true with serviceAccount.create=false would grant the rotation's rights to the namespace's default ServiceAccount: set serviceAccount.name" }}
{{- end }}
{{- if and $r.webhookUrl .Values.webhookUrlSecret.name }}
{{- fail "set either rotator.webhookUrl or webhookUrlSecret.name, not both" }}
{{- end }}
{{- if .Values.certificates.create }}
{{- include "linkerd-cert-rotator.validateCertificates" . }}
{{- end }}
{{- if and $r.force (eq .Values.command "rotate") (not .Values.cronJob.suspend) (not .Values.peerAccess.enabled) }}
{{- fail "rotator.force=true would start a new rotation (three restarts of the whole mesh) on every scheduled run: use --force in a Job started by hand" }}
{{- end }}
{{- if and .Values.rbac.restrictToNamespaces (not .Values.rbac.create) }}
{{- fail "rbac.restrictToNamespaces only shapes the chart's RBAC: it needs rbac.create=true (set rotator.includeNamespaces instead)" }}
{{- end }}
{{- end }}

{{/* Rules for recording Events (events.k8s.io, created once each, never patched), shared by the namespaced Roles. */}}
{{- define "linkerd-cert-rotator.eventRules" -}}
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create"]
{{- end }}

{{/* A RoleBinding of ROLE in NAMESPACE to the rotator's ServiceAccount. Call with (list $ ROLE NAMESPACE). */}}
{{- define "linkerd-cert-rotator.roleBinding" -}}
{{- $root := index . 0 }}
{{- $role := index . 1 }}
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $role }}
  namespace: {{ index . 2 }}
  labels:
    {{- include "linkerd-cert-rotator.labels" $root | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $role }}
subjects:
  - kind: ServiceAccount
    name: {{ include "linkerd-cert-rotator.serviceAccountName" $root }}
    namespace: {{ $root.Release.Namespace }}
{{- end }}

{{/*
"true" when the admission policies are rendered: admissionPolicy.enabled and the apiserver serves
ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, Kubernetes 1.30+). On when the value is
missing: `helm upgrade --reuse-values` from a release of an older chart keeps that release's values
and ignores this chart's defaults.
*/}}
{{- define "linkerd-cert-rotator.admissionPolicy" -}}
{{- if and (dig "enabled" true (.Values.admissionPolicy | default dict)) (.Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy") }}true{{ end }}
{{- end }}

{{/* matchConditions of an admission policy: requests of the rotator's ServiceAccount only. */}}
{{- define "linkerd-cert-rotator.admissionPolicyMatch" -}}
matchConditions:
  - name: rotator-service-account
    expression: request.userInfo.username == {{ printf "system:serviceaccount:%s:%s" .Release.Namespace (include "linkerd-cert-rotator.serviceAccountName" .) | quote }}
{{- end }}

{{/* The binding of admission policy NAME (Deny, no params). Call with (list $ NAME). */}}
{{- define "linkerd-cert-rotator.admissionPolicyBinding" -}}
{{- $root := index . 0 }}
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: {{ index . 1 }}
  labels:
    {{- include "linkerd-cert-rotator.labels" $root | nindent 4 }}
spec:
  policyName: {{ index . 1 }}
  validationActions: [Deny]
{{- end }}
