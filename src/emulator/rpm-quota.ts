/**
 * A requests-per-minute quota per model over a sliding window (60 s times the timeScale knob),
 * like the per-model RPM limits of the real API. Only admitted requests use up the quota.
 */
export class RpmQuota {
  private readonly admitted = new Map<string, number[]>();

  /**
   * Admits one request for `model` at `now`, or returns how long (ms) until a slot frees up.
   */
  tryAdmit(model: string, limit: number, windowMs: number, now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    const times = this.admitted.get(model) ?? [];
    while (times.length > 0 && (times[0] ?? 0) <= now - windowMs) times.shift();
    if (times.length >= limit) {
      return { ok: false, retryAfterMs: Math.max(1, (times[0] ?? now) + windowMs - now) };
    }
    times.push(now);
    this.admitted.set(model, times);
    return { ok: true };
  }
}
