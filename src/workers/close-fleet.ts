import type { Logger } from 'pino';
import type { WorkerFleet } from './start-workers.js';

export type CloseOutcome = 'closed' | 'abandoned' | 'redis-unreachable';

/**
 * How long a PING may take before Redis counts as unreachable: ioredis reconnects with a backoff
 * capped at 5 s, so a connection that lost Redis a moment ago may need that long to answer
 * although Redis is back. Two such silences in a row during a drain mean Redis is gone.
 */
const PING_TIMEOUT_MS = 6000;

/**
 * Closes a fleet within `graceMs`: in-flight items get that long to finish and be recorded, then
 * the connections are dropped and what was in flight is left to BullMQ's stalled-job recovery
 * (another worker takes it; output claims keep it from being paid twice).
 * With Redis unreachable — no answer to a PING within 6 s at the signal, or twice in a row during
 * the drain — nothing in flight could be recorded anyway: the fleet is dropped at once
 * ('redis-unreachable', the caller exits 3), well within 10 s of the signal.
 */
export async function closeFleetWithin(fleet: WorkerFleet, graceMs: number, logger: Logger): Promise<CloseOutcome> {
  if (!(await fleet.redisAnswers(PING_TIMEOUT_MS))) {
    logger.warn('Redis unreachable at shutdown: exiting without draining (items in flight are taken up again by another worker)');
    fleet.abandon();
    return 'redis-unreachable';
  }
  let graceTimer: NodeJS.Timeout | undefined;
  let watchTimer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace over'>((resolve) => {
    graceTimer = setTimeout(() => resolve('grace over'), graceMs);
  });
  // Asked directly (a PING on the command connection), not inferred from connection errors: a
  // blocking connection may keep reporting trouble after Redis is back.
  let failedPings = 0;
  let pinging = false;
  const redisGone = new Promise<'redis gone'>((resolve) => {
    watchTimer = setInterval(() => {
      if (pinging) return;
      pinging = true;
      void fleet.redisAnswers(PING_TIMEOUT_MS / 2).then((answers) => {
        pinging = false;
        failedPings = answers ? 0 : failedPings + 1;
        if (failedPings >= 2) resolve('redis gone');
      });
    }, 500);
  });
  const closing = fleet.close().then(() => 'closed' as const);
  closing.catch(() => undefined);
  const outcome = await Promise.race([closing, graceOver, redisGone]);
  clearTimeout(graceTimer);
  clearInterval(watchTimer);
  if (outcome === 'closed') return 'closed';
  if (outcome === 'redis gone') {
    logger.warn('Redis became unreachable while draining: exiting without waiting for it');
    fleet.abandon();
    return 'redis-unreachable';
  }
  logger.warn({ graceMs }, 'shutdown grace period passed: closing without waiting for in-flight items');
  fleet.abandon();
  return 'abandoned';
}
