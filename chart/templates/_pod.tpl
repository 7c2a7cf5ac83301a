{{/*
The rotator's pod, shared by the CronJob's Jobs and the `helm test` pod (templates/tests/), so that
both run with the same ServiceAccount, settings, security contexts, resources and mounts.
*/}}

{{/*
Pod metadata: the chart's labels, podLabels, podAnnotations, the mesh opt-out and ANNOTATIONS (a dict,
e.g. a hook's). Call with (dict "root" $ "annotations" (dict ...)).
*/}}
{{- define "linkerd-cert-rotator.podMetadata" -}}
{{- $annotations := .annotations }}
{{- with .root -}}
labels:
  {{- include "linkerd-cert-rotator.labels" . | nindent 2 }}
  {{- with .Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  {{- with .Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  # The rotator restarts the mesh; it must not be part of it.
  linkerd.io/inject: disabled
  {{- with $annotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
The pod spec but restartPolicy, with the rotator container running ARGS. Call with
(dict "root" $ "args" (list ...)).
*/}}
{{- define "linkerd-cert-rotator.podSpec" -}}
{{- $args := .args }}
{{- with .root -}}
serviceAccountName: {{ include "linkerd-cert-rotator.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.serviceAccount.automount }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- $podSecurityContext := deepCopy (.Values.podSecurityContext | default dict) }}
{{- if and .Values.multicluster.peers (not (hasKey $podSecurityContext "fsGroup")) }}
{{- /* The peers' kubeconfig files are root-owned with mode 0400: the fsGroup makes them group-readable (kubelet adds g+r). */}}
{{- $_ := set $podSecurityContext "fsGroup" ($podSecurityContext.runAsGroup | default 65532) }}
{{- end }}
{{- with $podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: rotator
    image: {{ include "linkerd-cert-rotator.image" . | quote }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    args:
      {{- range $args }}
      - {{ . | quote }}
      {{- end }}
    # The rotator writes no /dev/termination-log: the end of a failed run's log (at most 80 lines or
    # 2 KiB) becomes the container's termination message, which `kubectl describe pod` shows.
    terminationMessagePolicy: FallbackToLogsOnError
    env:
      {{- $ownNodeOptions := true }}
      {{- range .Values.extraEnv }}{{ if eq .name "NODE_OPTIONS" }}{{ $ownNodeOptions = false }}{{ end }}{{ end }}
      {{- if and .Values.nodeOptions $ownNodeOptions }}
      # Node sizes its heap from the host, not the container limit: cap it below resources.limits.memory
      # (an extraEnv NODE_OPTIONS replaces this one).
      - name: NODE_OPTIONS
        value: {{ .Values.nodeOptions | quote }}
      {{- end }}
      # The job's own pod and Job, so the rotator can attach Events to them.
      - name: POD_NAME
        valueFrom:
          fieldRef:
            fieldPath: metadata.name
      - name: POD_NAMESPACE
        valueFrom:
          fieldRef:
            fieldPath: metadata.namespace
      {{- include "linkerd-cert-rotator.rotatorEnv" . | trim | nindent 6 }}
      {{- with include "linkerd-cert-rotator.peerEnv" . }}
      # multicluster.peers: the peers (NAME or NAME=CONTEXT) and their kubeconfig files, one per Secret.
      {{- . | trim | nindent 6 }}
      {{- end }}
      {{- if .Values.job.softExits }}
      # job.softExits: a lock held by another run and a gate not met yet end the Job with 0
      # (the outcome stays in the logs, Events and metrics); see docs/runbook.md.
      - name: LCR_SOFT_EXITS
        value: "true"
      {{- end }}
      {{- with .Values.extraEnv }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- with .Values.securityContext }}
    securityContext:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with .Values.resources }}
    resources:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    volumeMounts:
      # The root filesystem is read-only; Node.js and its libraries get a small scratch /tmp.
      - name: tmp
        mountPath: /tmp
      {{- range .Values.multicluster.peers }}
      - name: peer-{{ .name }}
        mountPath: {{ include "linkerd-cert-rotator.peerDir" .name }}
        readOnly: true
      {{- end }}
      {{- with .Values.extraVolumeMounts }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 16Mi
  {{- range .Values.multicluster.peers }}
  # Peer {{ .name }}: its kubeconfig (a token of the peer's peerAccess ServiceAccount), this key only.
  - name: peer-{{ .name }}
    secret:
      secretName: {{ .kubeconfigSecret }}
      defaultMode: 256 # 0400
      items:
        - key: {{ .key | default "kubeconfig" }}
          path: kubeconfig
  {{- end }}
  {{- with .Values.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end }}
