import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Timed {
  name: string;
  command: string;
  meanMs: number;
  stddevMs: number;
  /** User + system CPU per run: steadier than wall time on a busy machine. */
  cpuMs: number;
  runs: number;
}

/** Start-up of the entrypoint against bare `node -e 0`, with hyperfine when installed, else repeated timing. */
export function startupTimes(entry: string, runs = 20): { tool: string; results: Timed[] } {
  const node = process.execPath;
  const commands = [
    { name: 'node -e 0 (baseline)', command: `${node} -e 0` },
    { name: 'linkerd-cert-rotator --help', command: `${node} ${entry} --help` },
  ];
  const hyperfine = spawnSync('hyperfine', ['--version'], { encoding: 'utf8' });
  if (hyperfine.status === 0) {
    const dir = mkdtempSync(join(tmpdir(), 'lcr-bench-startup-'));
    const file = join(dir, 'hyperfine.json');
    const run = spawnSync('hyperfine', ['--warmup', '3', '--runs', String(runs), '--style', 'none', '--export-json', file, ...commands.map((c) => c.command)], {
      encoding: 'utf8',
    });
    if (run.status === 0) {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { results: { mean: number; stddev: number; user: number; system: number; times: number[] }[] };
      rmSync(dir, { recursive: true, force: true });
      return {
        tool: hyperfine.stdout.trim(),
        results: commands.map((c, i) => {
          const r = parsed.results[i];
          return {
            ...c,
            meanMs: (r?.mean ?? NaN) * 1000,
            stddevMs: (r?.stddev ?? NaN) * 1000,
            cpuMs: ((r?.user ?? NaN) + (r?.system ?? NaN)) * 1000,
            runs: r?.times.length ?? 0,
          };
        }),
      };
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    tool: 'repeated spawnSync timing',
    results: commands.map((c) => {
      const [bin, ...args] = c.command.split(' ');
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const start = process.hrtime.bigint();
        spawnSync(bin ?? node, args, { stdio: 'ignore' });
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      // Without hyperfine only wall time is measured.
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      const stddev = Math.sqrt(times.reduce((a, b) => a + (b - mean) ** 2, 0) / times.length);
      return { ...c, meanMs: mean, stddevMs: stddev, cpuMs: NaN, runs: times.length };
    }),
  };
}

export interface ImageSize {
  image: string;
  bytes: number;
}

/** Sizes of the image and of its runtime base as podman reports them, when podman and the images exist. */
export function imageSizes(images: string[]): ImageSize[] {
  return images.flatMap((image) => {
    const run = spawnSync('podman', ['image', 'inspect', image, '--format', '{{.Size}}'], { encoding: 'utf8' });
    const bytes = Number(run.stdout.trim());
    return run.status === 0 && Number.isFinite(bytes) && bytes > 0 ? [{ image, bytes }] : [];
  });
}
