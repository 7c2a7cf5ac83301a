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
  const parts = days > 0 ? [[days, 'd'], [hours, 'h']] : hours > 0 ? [[hours, 'h'], [minutes, 'm']] : [[minutes, 'm'], [seconds, 's']];
  return sign + parts.filter(([value], index) => index === 0 || value !== 0).map(([value, unit]) => `${value}${unit}`).join('');
}
