/**
 * Kubernetes objects of a large meshed cluster, as the API server would send them in lists: pods
 * injected by Linkerd's proxy-injector (a linkerd-proxy container whose env holds the trust
 * bundle's PEM, Linkerd's labels and annotations, a status; about 5 KB of JSON each, managed
 * fields left out), the Deployments
 * that own them and their namespaces. Deterministic: object i is the same on every request, so a
 * paged list can be answered without holding the cluster in memory.
 */

/** What the objects are made from. */
export interface MeshShape {
  pods: number;
  /** Meshed Deployments (of one replica each) per namespace. */
  perNamespace: number;
  /** Trust bundles (PEM) the pods were born with: pod i carries bundles[i % length]. */
  bundles: readonly string[];
}

const pad = (n: number, width = 5): string => String(n).padStart(width, '0');
const hex = (n: number, width: number): string => ((n * 2654435761) >>> 0).toString(16).padStart(8, '0').repeat(4).slice(0, width);
const uid = (kind: number, n: number): string => `${hex(n + kind, 8)}-${hex(n + 1, 4)}-4${hex(n + 2, 3)}-a${hex(n + 3, 3)}-${hex(n + 4, 12)}`;
const time = (n: number): string => new Date(Date.UTC(2026, 10, 1) + n * 1_000).toISOString().replace('.000', '');

export const namespaceName = (shape: MeshShape, i: number): string => `team-${pad(Math.floor(i / shape.perNamespace), 4)}`;
const deploymentName = (i: number): string => `orders-api-${pad(i)}`;
const templateHash = (i: number): string => `${hex(i, 6)}c9`;
export const namespaces = (shape: MeshShape): number => Math.ceil(shape.pods / shape.perNamespace);

function proxyEnv(bundle: string): object[] {
  const plain: [string, string][] = [
    ['LINKERD2_PROXY_LOG', 'warn,linkerd=info,hickory=error,[{headers}]=off,[{request}]=off'],
    ['LINKERD2_PROXY_LOG_FORMAT', 'plain'],
    ['LINKERD2_PROXY_DESTINATION_SVC_ADDR', 'linkerd-dst-headless.linkerd.svc.cluster.local.:8086'],
    ['LINKERD2_PROXY_DESTINATION_PROFILE_NETWORKS', '10.0.0.0/8,100.64.0.0/10,172.16.0.0/12,192.168.0.0/16,fd00::/8'],
    ['LINKERD2_PROXY_POLICY_SVC_ADDR', 'linkerd-policy.linkerd.svc.cluster.local.:8090'],
    ['LINKERD2_PROXY_POLICY_WORKLOAD', '{"ns":"$(_pod_ns)", "pod":"$(_pod_name)"}\n'],
    ['LINKERD2_PROXY_INBOUND_DEFAULT_POLICY', 'all-unauthenticated'],
    ['LINKERD2_PROXY_ADMIN_LISTEN_ADDR', '[::]:4191'],
    ['LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR', '127.0.0.1:4140'],
    ['LINKERD2_PROXY_INBOUND_LISTEN_ADDR', '[::]:4143'],
    ['LINKERD2_PROXY_INBOUND_PORTS', '8080,9090'],
    ['LINKERD2_PROXY_IDENTITY_DIR', '/var/run/linkerd/identity/end-entity'],
    ['LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS', bundle],
    ['LINKERD2_PROXY_IDENTITY_TOKEN_FILE', '/var/run/secrets/tokens/linkerd-identity-token'],
    ['LINKERD2_PROXY_IDENTITY_SVC_ADDR', 'linkerd-identity-headless.linkerd.svc.cluster.local.:8080'],
    ['_l5d_ns', 'linkerd'],
    ['_l5d_trustdomain', 'cluster.local'],
    ['LINKERD2_PROXY_IDENTITY_LOCAL_NAME', '$(_pod_sa).$(_pod_ns).serviceaccount.identity.linkerd.cluster.local'],
    ['LINKERD2_PROXY_IDENTITY_SVC_NAME', 'linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local'],
    ['LINKERD2_PROXY_DESTINATION_SVC_NAME', 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local'],
  ];
  const fromField = (name: string, fieldPath: string): object => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });
  return [
    fromField('_pod_name', 'metadata.name'),
    fromField('_pod_ns', 'metadata.namespace'),
    fromField('_pod_nodeName', 'spec.nodeName'),
    fromField('_pod_sa', 'spec.serviceAccountName'),
    ...plain.map(([name, value]) => ({ name, value })),
  ];
}

/** Meshed pod i: the only replica of Deployment i, born with bundle i % bundles.length. */
export function meshedPod(shape: MeshShape, i: number): object {
  const namespace = namespaceName(shape, i);
  const deployment = deploymentName(i);
  const replicaSet = `${deployment}-${templateHash(i)}`;
  const name = `${replicaSet}-${hex(i + 7, 5)}`;
  const created = time(i);
  const conditions = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
    type,
    status: 'True',
    lastProbeTime: null,
    lastTransitionTime: created,
  }));
  const bundle = shape.bundles[i % shape.bundles.length] ?? '';
  return {
    metadata: {
      name,
      generateName: `${replicaSet}-`,
      namespace,
      uid: uid(1, i),
      resourceVersion: String(100_000 + i),
      creationTimestamp: created,
      labels: {
        app: deployment,
        'app.kubernetes.io/name': deployment,
        'app.kubernetes.io/part-of': 'shop',
        'linkerd.io/control-plane-ns': 'linkerd',
        'linkerd.io/proxy-deployment': deployment,
        'linkerd.io/workload-ns': namespace,
        'pod-template-hash': templateHash(i),
      },
      annotations: {
        'kubectl.kubernetes.io/restartedAt': created,
        'linkerd.io/created-by': 'linkerd/proxy-injector edge-25.11.1',
        'linkerd.io/inject': 'enabled',
        'linkerd.io/proxy-version': 'edge-25.11.1',
        'linkerd.io/trust-root-sha256': hex(i % shape.bundles.length, 64),
        'viz.linkerd.io/tap-enabled': 'true',
      },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: replicaSet, uid: uid(2, i), controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      initContainers: [
        {
          name: 'linkerd-proxy',
          image: 'cr.l5d.io/linkerd/proxy:edge-25.11.1',
          restartPolicy: 'Always',
          env: proxyEnv(bundle),
          ports: [
            { name: 'linkerd-proxy', containerPort: 4143, protocol: 'TCP' },
            { name: 'linkerd-admin', containerPort: 4191, protocol: 'TCP' },
          ],
          resources: {},
          volumeMounts: [
            { name: 'linkerd-identity-end-entity', mountPath: '/var/run/linkerd/identity/end-entity' },
            { name: 'linkerd-identity-token', mountPath: '/var/run/secrets/tokens' },
          ],
          readinessProbe: {
            httpGet: { path: '/ready', port: 4191, scheme: 'HTTP' },
            initialDelaySeconds: 2,
            timeoutSeconds: 1,
            periodSeconds: 10,
            successThreshold: 1,
            failureThreshold: 3,
          },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      containers: [
        {
          name: 'app',
          image: `registry.example.com/shop/${deployment}:1.42.${i % 10}`,
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
          ],
          resources: { limits: { memory: '256Mi' }, requests: { cpu: '50m', memory: '128Mi' } },
          volumeMounts: [{ name: 'kube-api-access', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      volumes: [
        {
          name: 'kube-api-access',
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            ],
            defaultMode: 420,
          },
        },
        { name: 'linkerd-identity-end-entity', emptyDir: { medium: 'Memory' } },
        {
          name: 'linkerd-identity-token',
          projected: {
            sources: [{ serviceAccountToken: { audience: 'identity.l5d.io', expirationSeconds: 86400, path: 'linkerd-identity-token' } }],
            defaultMode: 420,
          },
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      nodeName: `kwok-node-${i % 20}`,
      securityContext: {},
      schedulerName: 'default-scheduler',
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase: 'Running',
      conditions,
      hostIP: `10.0.${i % 20}.1`,
      podIP: `10.244.${(i >> 8) % 256}.${i % 256}`,
      podIPs: [{ ip: `10.244.${(i >> 8) % 256}.${i % 256}` }],
      startTime: created,
      initContainerStatuses: [
        {
          name: 'linkerd-proxy',
          state: { running: { startedAt: created } },
          lastState: {},
          ready: true,
          restartCount: 0,
          image: 'cr.l5d.io/linkerd/proxy:edge-25.11.1',
          imageID: `cr.l5d.io/linkerd/proxy@sha256:${hex(3, 64)}`,
          containerID: `containerd://${hex(i + 11, 64)}`,
          started: true,
        },
      ],
      containerStatuses: [
        {
          name: 'app',
          state: { running: { startedAt: created } },
          lastState: {},
          ready: true,
          restartCount: 0,
          image: `registry.example.com/shop/${deployment}:1.42.${i % 10}`,
          imageID: `registry.example.com/shop/${deployment}@sha256:${hex(i, 64)}`,
          containerID: `containerd://${hex(i + 5, 64)}`,
          started: true,
        },
      ],
      qosClass: 'Burstable',
    },
  };
}

/** Deployment i, applied with kubectl (its last-applied-configuration annotation), meshed by its namespace. */
export function meshedDeployment(shape: MeshShape, i: number): object {
  const namespace = namespaceName(shape, i);
  const name = deploymentName(i);
  const labels = { app: name, 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'shop' };
  const template = {
    metadata: { labels, annotations: { 'kubectl.kubernetes.io/restartedAt': time(i) } },
    spec: {
      containers: [
        {
          name: 'app',
          image: `registry.example.com/shop/${name}:1.42.${i % 10}`,
          ports: [
            { name: 'http', containerPort: 8080 },
            { name: 'metrics', containerPort: 9090 },
          ],
          resources: { limits: { memory: '256Mi' }, requests: { cpu: '50m', memory: '128Mi' } },
        },
      ],
    },
  };
  const applied = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template },
  };
  return {
    metadata: {
      name,
      namespace,
      uid: uid(3, i),
      resourceVersion: String(200_000 + i),
      generation: 4,
      creationTimestamp: time(i),
      labels,
      annotations: { 'deployment.kubernetes.io/revision': '4', 'kubectl.kubernetes.io/last-applied-configuration': `${JSON.stringify(applied)}\n` },
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {
      observedGeneration: 4,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
      conditions: [
        {
          type: 'Available',
          status: 'True',
          lastUpdateTime: time(i),
          lastTransitionTime: time(i),
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
        },
        {
          type: 'Progressing',
          status: 'True',
          lastUpdateTime: time(i),
          lastTransitionTime: time(i),
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "${name}-${templateHash(i)}" has successfully progressed.`,
        },
      ],
    },
  };
}

/** Namespace j, annotated for injection. */
export function meshedNamespace(shape: MeshShape, j: number): object {
  const name = namespaceName(shape, j * shape.perNamespace);
  return {
    metadata: {
      name,
      uid: uid(4, j),
      resourceVersion: String(300_000 + j),
      creationTimestamp: time(0),
      labels: { 'kubernetes.io/metadata.name': name },
      annotations: { 'linkerd.io/inject': 'enabled' },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}
