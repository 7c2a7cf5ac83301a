/** Durations in words, shared by the rotation, status and unattended runs. */

/** "25d", "3h4m", "12.3s", "250ms": the largest units that matter. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)}ms`;
  if (abs < 60_000) return `${sign}${Math.round(abs / 100) / 10}s`;
  const totalSeconds = Math.round(abs / 1000);
  const days = Math.floor(totalSeconds / 86_400);
  const hours = Math.floor((totalSeconds % 86_400) / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const parts =
    days > 0
      ? [
          [days, 'd'],
          [hours, 'h'],
        ]
      : hours > 0
        ? [
            [hours, 'h'],
            [minutes, 'm'],
          ]
        : [
            [minutes, 'm'],
            [seconds, 's'],
          ];
  return (
    sign +
    parts
      .filter(([value], index) => index === 0 || value !== 0)
      .map(([value, unit]) => `${value}${unit}`)
      .join('')
  );
}

const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration into milliseconds, as people write them for kubectl, Helm and cert-manager
 * (Go's time.ParseDuration: "1h30m", "5m0s", "8760h0m0s", "1.5h", "250ms") plus days ("25d") and
 * a bare number of seconds ("90"). Undefined when malformed or negative.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const part = /(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h|d)/y;
  let total = 0;
  let at = 0;
  while (at < trimmed.length) {
    part.lastIndex = at;
    const match = part.exec(trimmed);
    if (!match) return undefined;
    total += Number(match[1]) * (unitMs[match[2] ?? 's'] ?? 1000);
    at = part.lastIndex;
  }
  return at === 0 ? undefined : Math.round(total);
}
