import type { Logger } from 'pino';
import type { WorkerFleet } from './start-workers.js';

/**
 * Closes a fleet within `graceMs`: in-flight items get that long to finish and be recorded. With
 * Redis gone, close() would wait forever for replies that never come; past the grace period the
 * connections are dropped and the items in flight are left to BullMQ's stalled-job recovery.
 */
export async function closeFleetWithin(fleet: WorkerFleet, graceMs: number, logger: Logger): Promise<'closed' | 'abandoned'> {
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace over'>((resolve) => {
    timer = setTimeout(() => resolve('grace over'), graceMs);
  });
  const closing = fleet.close().then(() => 'closed' as const);
  closing.catch(() => undefined);
  const outcome = await Promise.race([closing, graceOver]);
  clearTimeout(timer);
  if (outcome === 'closed') return 'closed';
  logger.warn({ graceMs }, 'shutdown grace period passed: closing without waiting for Redis');
  fleet.abandon();
  return 'abandoned';
}
