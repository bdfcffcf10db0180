import { BunchError } from '../../errors/bunch-error.js';

/**
 * Resolves or rejects with `work`, unless `deadlineMs` passes first: then the slot is given up
 * with a retryable E_TIMEOUT and `work` is handed to `abandon` (it cannot be cancelled from here:
 * a hung storage call has no handle to abort).
 */
export async function withinDeadline<T>(work: Promise<T>, deadlineMs: number, abandon: (late: Promise<T>) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), deadlineMs);
  });
  try {
    const first = await Promise.race([work, deadline]);
    if (first !== 'deadline') return first as T;
  } finally {
    clearTimeout(timer);
  }
  abandon(work);
  throw new BunchError(
    'E_TIMEOUT',
    `the item did not finish within its overall deadline of ${deadlineMs} ms (call + store + record); its slot is freed and it is tried again`,
    { retryable: true },
  );
}
