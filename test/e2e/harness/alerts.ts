import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseExposition } from '../../support/prometheus.js';
import { repoRoot } from './cluster.js';
import { e2eClusterEnv, runTool, succeeded } from './tools.js';

interface Rule {
  alert?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The chart's PrometheusRule as rendered by helm, as a Prometheus rule file. */
function chartRules(helm: string): { groups: { name: string; rules: Rule[] }[] } {
  const rendered = succeeded(
    runTool(helm, ['template', 'lcr', join(repoRoot, 'chart'), '--set', 'prometheusRule.enabled=true', '--show-only', 'templates/prometheusrule.yaml']),
    'helm template (PrometheusRule)',
  );
  const object = k8s.loadYaml<{ spec: { groups: { name: string; rules: Rule[] }[] } }>(rendered);
  return { groups: object.spec.groups };
}

/** Seconds into promtool's clock at which the alert is evaluated (its time() starts at 0). */
const evalSeconds = 120;

/**
 * Evaluates one of the chart's alerts with Prometheus' own rule engine (`promtool test rules`)
 * on the metrics a run printed or pushed. promtool's clock starts at 0, so every
 * `*_timestamp_seconds` gauge is moved by the same amount: the moment the metrics were observed
 * (`observed_timestamp_seconds`) becomes promtool's evaluation time, and `x - time()` keeps its
 * meaning. Both outcomes are tested (firing with the rule's labels, and silent); exactly one
 * must pass, or the evaluation itself failed.
 */
export function evaluateAlert(alertname: string, exposition: string): { firing: boolean } {
  const env = e2eClusterEnv();
  const helm = env.LCR_HELM ?? 'helm';
  const promtool = env.LCR_PROMTOOL ?? 'promtool';
  const rules = chartRules(helm);
  const rule = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === alertname);
  if (!rule) throw new Error(`the chart has no alert ${alertname}`);
  const parsed = parseExposition(exposition);
  const observed = parsed.samples.find((s) => s.name === 'linkerd_cert_rotator_observed_timestamp_seconds')?.value;
  if (observed === undefined) throw new Error('the metrics carry no observed_timestamp_seconds');
  const series = parsed.samples.map((sample) => {
    const value = sample.name.endsWith('_timestamp_seconds') ? sample.value - observed + evalSeconds : sample.value;
    const labels = Object.entries(sample.labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',');
    return { series: `${sample.name}{${labels}}`, values: `${value}x4` };
  });
  const dir = mkdtempSync(join(tmpdir(), 'lcr-alerts-'));
  try {
    writeFileSync(join(dir, 'rules.yaml'), k8s.dumpYaml(rules));
    const outcome = (firing: boolean): boolean => {
      const expected = firing ? [{ exp_labels: { ...(rule.labels ?? {}) }, exp_annotations: { ...(rule.annotations ?? {}) } }] : [];
      const test = { rule_files: ['rules.yaml'], evaluation_interval: '1m', tests: [{ interval: '1m', input_series: series, alert_rule_test: [{ eval_time: `${evalSeconds}s`, alertname, exp_alerts: expected }] }] };
      const file = join(dir, `test-${String(firing)}.yaml`);
      writeFileSync(file, k8s.dumpYaml(test));
      return runTool(promtool, ['test', 'rules', file], { cwd: dir }).code === 0;
    };
    const [fires, silent] = [outcome(true), outcome(false)];
    if (fires === silent) throw new Error(`promtool could not decide whether ${alertname} fires (both outcomes ${fires ? 'passed' : 'failed'})`);
    return { firing: fires };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
