/**
 * Splits a rotation's wall time, from its JSON logs, into time spent waiting on what the
 * tool cannot speed up (a certificate being issued, a rollout becoming ready, trust-manager
 * writing the bundle: every log line with `waitedSeconds`) and the tool's own time. Waits of
 * concurrent restarts overlap, so waiting time is the union of the wait intervals
 * [logged at - waitedSeconds, logged at]. A wait includes up to one poll interval of
 * detection delay: run with a short --poll-interval to measure the tool, with the default
 * to see what users get.
 */
export interface StepTiming {
  step: string;
  wallMs: number;
  waitedMs: number;
  overheadMs: number;
  waits: number;
}

export interface RunTiming {
  steps: StepTiming[];
  /** From the process start to the first step (start-up, reading the cluster, planning). */
  beforeStepsMs: number;
  /** Re-reading the cluster and planning between steps, and finishing after the last. */
  betweenStepsMs: number;
  totalMs: number;
  waitedMs: number;
  overheadMs: number;
}

type Log = Record<string, unknown>;

const time = (log: Log): number => new Date(String(log.timestamp)).getTime();

/** Total length of the union of intervals. */
export function unionMs(intervals: [number, number][]): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let current: [number, number] | undefined;
  for (const [from, to] of sorted) {
    if (!current || from > current[1]) {
      if (current) total += current[1] - current[0];
      current = [from, to];
    } else current[1] = Math.max(current[1], to);
  }
  if (current) total += current[1] - current[0];
  return total;
}

/** Per-step timing of one `rotate` run that started at `startedAt` and took `totalMs`. */
export function stepTimings(logs: readonly Log[], startedAt: number, totalMs: number): RunTiming {
  const steps: StepTiming[] = [];
  const waitsOf = (from: number, to: number): [number, number][] =>
    logs
      .filter((log) => typeof log.waitedSeconds === 'number' && time(log) >= from && time(log) <= to)
      .map((log) => [Math.max(from, time(log) - (log.waitedSeconds as number) * 1000), time(log)]);
  let firstStep: number | undefined;
  let inSteps = 0;
  for (const [index, log] of logs.entries()) {
    const match = /^step (\d+): (.+)$/.exec(String(log.message));
    if (!match) continue;
    const start = time(log);
    firstStep ??= start;
    const done = logs.slice(index + 1).find((l) => String(l.message).startsWith(`step ${match[1]} done:`));
    if (!done) continue;
    const end = time(done);
    const waits = waitsOf(start, end);
    const waitedMs = unionMs(waits);
    const purpose = typeof log.purpose === 'string' ? ` (${log.purpose})` : '';
    steps.push({ step: `${match[1]}. ${match[2]}${purpose}`, wallMs: end - start, waitedMs, overheadMs: end - start - waitedMs, waits: waits.length });
    inSteps += end - start;
  }
  const beforeStepsMs = (firstStep ?? startedAt + totalMs) - startedAt;
  const waitedMs = steps.reduce((sum, s) => sum + s.waitedMs, 0);
  return { steps, beforeStepsMs, betweenStepsMs: totalMs - beforeStepsMs - inSteps, totalMs, waitedMs, overheadMs: totalMs - waitedMs };
}
