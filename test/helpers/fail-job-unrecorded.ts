import { UnrecoverableError, Worker } from 'bullmq';
import { createRedisConnection } from '../../src/redis/redis-connection.js';

/**
 * Leaves the next job of `queue` failed for good with no bunch record, the way a fleet process
 * leaves it when it dies right after BullMQ moved the job to the failed set and before its
 * `failed` handler recorded the item: a throwaway worker (no bunch processor, no event handlers)
 * takes the job and fails it through BullMQ's own moveToFailed. Returns the job's id.
 */
export async function failJobUnrecorded(redisUrl: string, prefix: string, queue: string, reason: string): Promise<string> {
  const connection = createRedisConnection(redisUrl, 'worker');
  const worker = new Worker(queue, null, { connection, prefix, autorun: false });
  worker.on('error', () => undefined);
  try {
    const token = 'dying-worker';
    const job = await worker.getNextJob(token);
    if (!job?.id) throw new Error(`no job waiting in ${queue}`);
    await job.moveToFailed(new UnrecoverableError(reason), token);
    if ((await job.getState()) !== 'failed') throw new Error(`job ${job.id} is not failed after moveToFailed`);
    return job.id;
  } finally {
    await worker.close(true);
    connection.disconnect();
  }
}
