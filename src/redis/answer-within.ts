/**
 * A Redis read that must answer within `ms`: a Redis that stops answering while its connection
 * stays up (a frozen process or VM, a partition dropping packets) leaves a command pending until
 * TCP keepalive gives up, many minutes later, and one that is frozen for good for ever. Pollers
 * that promise to give up after an outage limit race each read with this bound and count a late
 * answer as an outage. The command itself is not cancelled (Redis has no such thing); it settles
 * whenever Redis answers, and its answer is then ignored.
 */
export function answerWithin<T>(read: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer ${what} within ${ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`}`)), ms);
  });
  // A read that fails after the bound has nobody waiting for it.
  read.catch(() => undefined);
  return Promise.race([read, late]).finally(() => clearTimeout(timer));
}
