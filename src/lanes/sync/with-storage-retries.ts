import { BunchError } from '../../errors/bunch-error.js';

/**
 * Storage writes after a paid call are retried here, while the decoded image is still in memory:
 * handing a storage failure back to BullMQ would mean calling (and paying for) the model again.
 */
export async function withStorageRetries<T>(delaysMs: readonly number[], write: () => Promise<T>): Promise<T> {
  for (let retry = 0; ; retry += 1) {
    try {
      return await write();
    } catch (error) {
      const delay = delaysMs[retry];
      if (!(error instanceof BunchError && error.code === 'E_STORAGE' && error.retryable) || delay === undefined) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
