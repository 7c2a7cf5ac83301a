// The container image: built without a Docker engine by scripts/image-build.sh (podman, from the real
// Dockerfile on STAND-IN base images, since no base image can be pulled here), then run the way the
// chart runs it (user 65532, read-only root, no capabilities): `--help`, and `rotate --dry-run` against
// the local cluster. `npm run test:image` runs this file alone.
//
// LCR_E2E_IMAGE: `auto` (default) runs when we are root (rootful podman; image-build.sh installs podman
// and runc with apt when missing), otherwise skips saying why; `1` always runs; `0` skips.
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../harness/cluster.js';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { clusterTools, runTool, serviceAccountKubeconfig, succeeded, type ToolRun } from '../harness/tools.js';

const mode = (process.env.LCR_E2E_IMAGE ?? 'auto').toLowerCase();
const image = process.env.LCR_E2E_IMAGE_NAME ?? 'linkerd-cert-rotator:e2e';
/** A release of its own: its ClusterRoles do not clash with chart.test's. */
const release = 'lcr-image';
const releaseNs = 'lcr-image';
const serviceAccount = 'lcr-image-linkerd-cert-rotator';
const haspodman = runTool('sh', ['-c', 'command -v podman'], { timeoutMs: 10_000 }).code === 0;
const root = process.getuid?.() === 0;
const skipReason =
  mode === '0' || mode === 'false' || mode === 'off'
    ? `LCR_E2E_IMAGE=${mode}`
    : mode === 'auto' && !root
      ? `not root: scripts/image-build.sh needs rootful podman${haspodman ? '' : ' (and apt to install it)'}`
      : undefined;

/** podman with runc: crun, podman's default runtime, fails on these hosts' cgroup setup (HARNESS.md). */
const podman = (args: string[], timeoutMs = 120_000): ToolRun => runTool('podman', ['--runtime', 'runc', ...args], { timeoutMs });
/** How the chart's security context runs the container. */
const hardened = ['--rm', '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--user', '65532:65532'];

if (skipReason) {
  console.log(`image tests skipped: ${skipReason}`);
  test.skip(`image build and run (skipped: ${skipReason})`, () => undefined);
} else {
  const scratch = mkdtempSync(join(tmpdir(), 'lcr-image-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  describe('the container image (podman, stand-in base images)', () => {
    test('scripts/image-build.sh builds the Dockerfile without a Docker engine', () => {
      const start = Date.now();
      const build = runTool('bash', [join(repoRoot, 'scripts/image-build.sh')], { env: { IMAGE: image }, timeoutMs: 1_500_000 });
      succeeded(build, 'scripts/image-build.sh');
      const seconds = ((Date.now() - start) / 1000).toFixed(0);
      const inspect = JSON.parse(succeeded(podman(['image', 'inspect', image]), 'podman image inspect')) as {
        Size: number;
        Config: { User?: string; Entrypoint?: string[]; Cmd?: string[]; Labels?: Record<string, string> };
      }[];
      const [info] = inspect;
      if (!info) throw new Error(`no image ${image}`);
      expect(info.Config.User).toBe('65532:65532');
      expect(info.Config.Entrypoint).toEqual(['/nodejs/bin/node', '/app/main.mjs']);
      expect(info.Config.Cmd).toEqual(['rotate']);
      // The label the stand-in bases carry is inherited: this image says it was not built on the published bases.
      expect(info.Config.Labels?.['io.linkerd-cert-rotator.stand-in']).toBe('true');
      const layers = succeeded(podman(['history', '--format', '{{.Size}}\t{{.CreatedBy}}', image]), 'podman history');
      // What the application adds over the runtime base (issue goal: at most 10 MiB).
      const [base] = JSON.parse(succeeded(podman(['image', 'inspect', 'gcr.io/distroless/nodejs24-debian12']), 'podman image inspect base')) as {
        Size: number;
      }[];
      const overBase = info.Size - (base?.Size ?? 0);
      console.log(`image ${image}: ${(overBase / 1024 / 1024).toFixed(2)} MiB over the runtime base (${((base?.Size ?? 0) / 1e6).toFixed(1)} MB)`);
      expect(base?.Size).toBeGreaterThan(0);
      expect(overBase).toBeLessThan(10 * 1024 * 1024);
      console.log(
        `image ${image}: ${(info.Size / 1e6).toFixed(1)} MB (${info.Size} bytes), built in ${seconds} s by scripts/image-build.sh.\n` +
          'STAND-IN BASES: node:24-bookworm-slim and gcr.io/distroless/nodejs24-debian12 were assembled locally ' +
          '(Node 24 binary + its libraries, busybox for the build stage); the Dockerfile and the application layers are real.\n' +
          `layers:\n${layers}`,
      );
    });

    test('runs --help as user 65532 with a read-only root and no network', () => {
      const help = podman(['run', ...hardened, '--network', 'none', image, '--help']);
      succeeded(help, 'podman run --help');
      expect(help.stdout).toMatch(/rotate/);
      expect(help.stdout).toMatch(/Exit codes/);
      // No shell, and only production dependencies in the image.
      expect(podman(['run', ...hardened, '--network', 'none', '--entrypoint', '/bin/sh', image, '-c', 'true']).code).not.toBe(0);
      // The application is the bundle (scripts/bundle.mjs: its entry, the chunks the entry imports when a
      // command needs the cluster) and its licence file: no node_modules, no sources.
      const probe = "console.log(JSON.stringify(require('fs').readdirSync('/app').sort()))";
      const files = podman(['run', ...hardened, '--network', 'none', '--entrypoint', '/nodejs/bin/node', image, '-e', probe]);
      expect(JSON.parse(succeeded(files, 'file probe'))).toEqual(['chunks', 'main.mjs', 'main.mjs.LEGAL.txt']);
      const whoami = podman([
        'run',
        ...hardened,
        '--network',
        'none',
        '--entrypoint',
        '/nodejs/bin/node',
        image,
        '-e',
        'console.log(process.getuid(), process.getgid())',
      ]);
      expect(succeeded(whoami, 'uid probe').trim()).toBe('65532 65532');
    });

    test("runs `rotate --dry-run` from the container as the chart's ServiceAccount (its token only) and changes nothing", async () => {
      const kube = e2eKube();
      const { helm } = clusterTools(e2eKubeconfig());
      // The chart's RBAC, under a release of its own (its own ClusterRole names), CronJob suspended.
      succeeded(
        helm(['install', release, join(repoRoot, 'chart'), '--namespace', releaseNs, '--create-namespace', '--set', 'cronJob.suspend=true', '--wait=false']),
        'helm install',
      );
      try {
        // A self-contained kubeconfig with that token alone, readable only by the container's user, mounted read-only.
        const { kubeconfig } = await serviceAccountKubeconfig(
          kube.core,
          join(scratch, 'kubeconfig'),
          { namespace: releaseNs, name: serviceAccount },
          { expirationSeconds: 600 },
        );
        chownSync(kubeconfig, 65532, 65532);
        const before = await kube.resourceVersions();
        const run = podman([
          'run',
          ...hardened,
          '--network',
          'host',
          '--volume',
          `${kubeconfig}:/etc/linkerd-cert-rotator/kubeconfig:ro`,
          '--env',
          'LCR_KUBECONFIG=/etc/linkerd-cert-rotator/kubeconfig',
          image,
          'rotate',
          '--dry-run',
          '--force',
          '--output',
          'json',
        ]);
        succeeded(run, 'podman run rotate --dry-run');
        const plan = (JSON.parse(run.stdout) as { plan: { phase: string; steps: { name: string }[] } }).plan;
        expect(plan.steps[0]?.name).toBe('renew-anchor');
        expect(plan.steps.map((s) => s.name)).toContain('update-bundle');
        // Not on a terminal: JSON log lines on stderr, as in a Job; none of them a 403.
        const lines = run.stderr.split('\n').filter((l) => l.trim());
        expect(lines.filter((l) => !l.startsWith('{'))).toEqual([]);
        expect(lines.filter((l) => /forbidden|\b403\b/i.test(l))).toEqual([]);
        expect(await kube.resourceVersions()).toEqual(before);
      } finally {
        succeeded(helm(['uninstall', release, '--namespace', releaseNs, '--wait']), 'helm uninstall');
      }
    });
  });
}
