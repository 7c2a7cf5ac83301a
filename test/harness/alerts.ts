import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseExposition } from '../support/prometheus.js';
import { repoRoot } from './cluster.js';
import { e2eClusterEnv, offlineKubeVersion, runTool, succeeded } from './tools.js';

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The chart's PrometheusRule as rendered by helm (with `set` as `--set` values), as a Prometheus rule file. */
function chartRules(helm: string, set: Record<string, string>): { groups: { name: string; rules: Rule[] }[] } {
  const values = Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
  const rendered = succeeded(
    runTool(
      helm,
      offlineKubeVersion(
        ['template', 'lcr', join(repoRoot, 'chart'), '--set', 'prometheusRule.enabled=true', ...values, '--show-only', 'templates/prometheusrule.yaml'],
        e2eClusterEnv(),
      ),
    ),
    'helm template (PrometheusRule)',
  );
  const object = k8s.loadYaml<{ spec: { groups: { name: string; rules: Rule[] }[] } }>(rendered);
  return { groups: object.spec.groups };
}

/** Minutes into the engine's clock at which the expression is evaluated (its time() starts at 0). */
const evalMinutes = 2;

/**
 * Evaluates one of the chart's alert expressions with Prometheus' own PromQL engine and test
 * language (promqltest, built by scripts/cluster/build.sh as promql-eval) on the metrics a run
 * printed or pushed. The engine's clock starts at 0, so every `*_timestamp_seconds` gauge is
 * moved by the same amount: the moment the metrics were observed (`observed_timestamp_seconds`)
 * becomes the evaluation time, and `x - time()` keeps its meaning. `labels` are added to every
 * sample, as the Pushgateway adds its grouping key (`{ cluster: 'east' }`); `set` are chart values
 * for the rendering (`{ 'prometheusRule.anchorExpiryDays': '400' }`). Both outcomes are
 * checked (the alert's expression returns at least one series, whatever its labels, or nothing);
 * exactly one must hold, or the evaluation itself failed. The rule's `for` is not modelled (the
 * alerts tested here have none).
 */
export function evaluateAlert(
  alertname: string,
  exposition: string,
  { labels = {}, set = {} }: { labels?: Record<string, string>; set?: Record<string, string> } = {},
): { firing: boolean } {
  const env = e2eClusterEnv();
  const rules = chartRules(env.LCR_HELM ?? 'helm', set);
  const rule = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === alertname);
  if (!rule?.expr) throw new Error(`the chart has no alert ${alertname}`);
  if (rule.for) throw new Error(`${alertname} has a for: clause, which this evaluation does not model`);
  const parsed = parseExposition(exposition);
  const observed = parsed.samples.find((s) => s.name === 'linkerd_cert_rotator_observed_timestamp_seconds')?.value;
  if (observed === undefined) throw new Error('the metrics carry no observed_timestamp_seconds');
  const load = parsed.samples.map((sample) => {
    const value = sample.name.endsWith('_timestamp_seconds') ? sample.value - observed + evalMinutes * 60 : sample.value;
    const rendered = Object.entries({ ...sample.labels, ...labels })
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',');
    return `  ${sample.name}{${rendered}} ${value}x4`;
  });
  // Whatever labels the alert's series carry (by cluster, by command), one sample {} 1 when any fired.
  const expr = `clamp_max(count(${rule.expr.replace(/\s+/g, ' ').trim()}), 1)`;
  const dir = mkdtempSync(join(tmpdir(), 'lcr-alerts-'));
  try {
    const holds = (firing: boolean): boolean => {
      const file = join(dir, `${String(firing)}.test`);
      writeFileSync(file, ['load 1m', ...load, '', `eval instant at ${evalMinutes}m ${expr}`, ...(firing ? ['  {} 1'] : []), ''].join('\n'));
      const run = runTool(env.LCR_PROMQL_EVAL ?? 'promql-eval', ['-test.run', 'TestScript'], { env: { PROMQL_TEST_FILE: file }, cwd: dir });
      if (run.code !== 0 && !/error in eval|unexpected metric|expected .* but got/.test(run.stdout))
        throw new Error(`promql-eval failed: ${run.stdout.slice(-2000)}${run.stderr.slice(-1000)}`);
      return run.code === 0;
    };
    const [fires, silent] = [holds(true), holds(false)];
    if (fires === silent) throw new Error(`could not decide whether ${alertname} fires (both outcomes ${fires ? 'held' : 'failed'})`);
    return { firing: fires };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
