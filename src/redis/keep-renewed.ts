/**
 * Renews something held with a TTL (a lock, a lease) every `everyMs` until the returned function
 * is called. A renewal that fails (Redis unreachable) is tried again at the next tick; the first
 * renewal that answers false (the hold is gone or someone else's) stops the renewals and calls
 * `onLost`. The timer never keeps the process alive.
 */
export function keepRenewed(renew: () => Promise<boolean>, everyMs: number, onLost: () => void = () => undefined): () => void {
  let stopped = false;
  const timer = setInterval(() => {
    renew().then(
      (kept) => {
        if (kept || stopped) return;
        stop();
        onLost();
      },
      () => undefined,
    );
  }, Math.max(10, Math.floor(everyMs)));
  timer.unref();
  function stop(): void {
    stopped = true;
    clearInterval(timer);
  }
  return stop;
}
