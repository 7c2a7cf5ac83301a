// The `helm test` hook (chart/templates/tests/pod-status.yaml) against the CronJob, both rendered with
// helm: the test Pod runs `status` with the same ServiceAccount, settings, security contexts, resources,
// volumes and labels as the CronJob's pod, for the default values, a multicluster primary and the
// restricted CI values; it is left out of a peer's release and with tests.enabled=false.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';

// The helm the chart checks use ($HELM, the cached build, helm on PATH, or built into the cache now), and
// the Kubernetes version they render for (the chart's kubeVersion refuses a go-installed helm's v1.20.0).
const chartCheck = (flag: string): string =>
  execFileSync('bash', [join(process.cwd(), 'scripts', 'chart-check.sh'), flag], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const helmBinary = chartCheck('--print-helm');
const kubeVersion = chartCheck('--print-kube-version');

interface Container {
  name: string;
  args?: string[];
  terminationMessagePolicy?: string;
  [field: string]: unknown;
}
interface PodSpec {
  containers: Container[];
  restartPolicy?: string;
  serviceAccountName?: string;
  [field: string]: unknown;
}
interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Manifest {
  kind?: string;
  metadata?: Meta;
  spec?: PodSpec & { jobTemplate?: { spec: { template: { metadata: Meta; spec: PodSpec } } } };
}

function render(args: string[]): Manifest[] {
  const out = execFileSync(helmBinary, ['template', 'lcr', 'chart', '--namespace', 'rotator-ns', '--kube-version', kubeVersion, ...args], {
    encoding: 'utf8',
    maxBuffer: 32 << 20,
  });
  return (loadAll(out) as (Manifest | null)[]).filter((m): m is Manifest => m !== null);
}

const modes: Record<string, string[]> = {
  defaults: [],
  'multicluster primary': ['-f', 'chart/ci/multicluster-values.yaml'],
  restricted: ['-f', 'chart/ci/restricted-values.yaml'],
};

describe('the helm test hook', () => {
  test.each(Object.entries(modes))('%s: the test Pod is the CronJob pod running status', (_mode, args) => {
    const manifests = render(args);
    const cronJob = manifests.find((m) => m.kind === 'CronJob');
    const pods = manifests.filter((m) => m.kind === 'Pod');
    expect(pods).toHaveLength(1);
    const [pod] = pods;
    const template = cronJob?.spec?.jobTemplate?.spec.template;
    if (!pod?.spec || !template) throw new Error('no test Pod or no CronJob rendered');

    expect(pod.metadata?.namespace).toBe('rotator-ns');
    expect(pod.metadata?.annotations).toEqual({
      ...template.metadata.annotations,
      'helm.sh/hook': 'test',
      'helm.sh/hook-delete-policy': 'before-hook-creation',
    });
    expect(pod.metadata?.annotations?.['linkerd.io/inject']).toBe('disabled');
    expect(pod.metadata?.labels).toEqual(template.metadata.labels);

    // Everything but the arguments is the CronJob's pod: same ServiceAccount, env, securityContexts, mounts.
    const [container, ...others] = pod.spec.containers;
    const [cronContainer] = template.spec.containers;
    expect(others).toEqual([]);
    expect(container?.args).toEqual(['status']);
    expect(cronContainer?.args?.[0]).toBe('rotate');
    expect({ ...container, args: undefined }).toEqual({ ...cronContainer, args: undefined });
    expect({ ...pod.spec, containers: undefined }).toEqual({ ...template.spec, containers: undefined });
    expect(pod.spec.restartPolicy).toBe('Never');
    expect(pod.spec.serviceAccountName).toBe(template.spec.serviceAccountName);
    // A failed run says why in the pod's status, for the test Pod as for the Jobs.
    expect(container?.terminationMessagePolicy).toBe('FallbackToLogsOnError');
  });

  test.each([
    ['tests.enabled=false', ['--set', 'tests.enabled=false']],
    ['a peer (peerAccess: no run there)', ['-f', 'chart/ci/peer-values.yaml']],
  ])('no test Pod with %s', (_what, args) => {
    expect(render(args).filter((m) => m.kind === 'Pod')).toEqual([]);
  });
});
