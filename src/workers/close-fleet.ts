import type { Logger } from 'pino';
import type { WorkerFleet } from './start-workers.js';

export type CloseOutcome = 'closed' | 'abandoned' | 'redis-unreachable';

/** How long one "does Redis answer?" may take (a probe connection of its own: redis-probe.ts). */
const PROBE_TIMEOUT_MS = 2000;
/** How often the drain asks. */
const PROBE_EVERY_MS = 500;
/**
 * How long Redis may stay unreachable during a drain before the drain is given up. A restart or a
 * failover takes a second or two and the drain survives it; 4 s of silence, plus one probe's
 * timeout to notice, keeps the exit within 10 s of Redis going away.
 */
const DRAIN_OUTAGE_LIMIT_MS = 4000;

/**
 * Closes a fleet within `graceMs`: it stops taking jobs at once, in-flight items get that long to
 * finish and be recorded, then the connections are dropped and what was in flight is left to
 * BullMQ's stalled-job recovery (another worker takes it; output claims keep it from being paid
 * twice).
 * With Redis unreachable nothing in flight could be recorded anyway, so the grace period is not
 * waited for: when Redis does not answer within 2 s at the signal, or stays silent for 4 s during
 * the drain, the fleet is dropped ('redis-unreachable', the caller exits 3) — within 10 s of the
 * signal or of the loss, whatever `graceMs` is.
 */
export async function closeFleetWithin(fleet: WorkerFleet, graceMs: number, logger: Logger): Promise<CloseOutcome> {
  if (!(await fleet.redisAnswers(PROBE_TIMEOUT_MS))) {
    logger.warn('Redis unreachable at shutdown: exiting without draining (items in flight are taken up again by another worker)');
    fleet.abandon();
    return 'redis-unreachable';
  }
  let graceTimer: NodeJS.Timeout | undefined;
  let watchTimer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace over'>((resolve) => {
    graceTimer = setTimeout(() => resolve('grace over'), graceMs);
  });
  const redisGone = new Promise<'redis gone'>((resolve) => {
    let silentSince: number | undefined;
    let asking = false;
    watchTimer = setInterval(() => {
      if (asking) return;
      asking = true;
      const askedAt = Date.now();
      void fleet.redisAnswers(PROBE_TIMEOUT_MS).then((answers) => {
        asking = false;
        if (answers) silentSince = undefined;
        else silentSince ??= askedAt;
        if (silentSince !== undefined && Date.now() - silentSince >= DRAIN_OUTAGE_LIMIT_MS) resolve('redis gone');
      });
    }, PROBE_EVERY_MS);
  });
  const closing = fleet.close().then(
    () => 'closed' as const,
    (error: unknown) => {
      logger.warn({ err: { message: error instanceof Error ? error.message : String(error) } }, 'closing the workers failed');
      return 'close failed' as const;
    },
  );
  const outcome = await Promise.race([closing, graceOver, redisGone]);
  clearTimeout(graceTimer);
  clearInterval(watchTimer);
  if (outcome === 'closed') return 'closed';
  if (outcome === 'redis gone') {
    logger.warn('Redis became unreachable while draining: exiting without waiting for in-flight items');
    fleet.abandon();
    return 'redis-unreachable';
  }
  if (outcome === 'grace over') logger.warn({ graceMs }, 'shutdown grace period passed: closing without waiting for in-flight items');
  fleet.abandon();
  return 'abandoned';
}
