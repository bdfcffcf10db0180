/**
 * Durations in job files: a number of milliseconds, or a string like `500ms`, `90s`, `30m`, `8h`,
 * `1d`. Returns milliseconds, or undefined when the value is not a duration.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = UNIT_MS[match[2] ?? 'ms'];
  return unit === undefined ? undefined : Math.round(amount * unit);
}
