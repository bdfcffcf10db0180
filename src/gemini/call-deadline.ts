/**
 * A hard deadline for one HTTP call, combined with the caller's AbortSignal. Passed to fetch, its
 * signal also aborts reading the body, so a server that stalls mid-body still ends by the deadline.
 *
 * Why not `AbortSignal.any([AbortSignal.timeout(ms), signal])`: a plain timer that is cleared when
 * the call ends leaves nothing behind (Node 20's composite signals keep listeners on long-lived
 * caller signals until GC, which adds up in a worker making millions of calls), and it tells us
 * for certain whether *our* deadline fired or the caller cancelled.
 */
export interface CallDeadline {
  readonly signal: AbortSignal;
  timedOut(): boolean;
  cancelled(): boolean;
  /** Stops the timer and detaches from the caller's signal. Call once the body is consumed. */
  clear(): void;
}

export function startCallDeadline(timeoutMs: number, callerSignal?: AbortSignal): CallDeadline {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`);
  const controller = new AbortController();
  let timedOut = false;
  let cancelled = false;

  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`deadline of ${timeoutMs} ms exceeded`, 'TimeoutError'));
  }, timeoutMs);
  const onCallerAbort = (): void => {
    if (timedOut) return;
    cancelled = true;
    controller.abort(callerSignal?.reason);
  };
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });

  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    cancelled: () => cancelled,
    clear: () => {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    },
  };
}
