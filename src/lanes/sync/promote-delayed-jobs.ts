import type { Queue } from 'bullmq';

/**
 * When a run is told to stop, its jobs waiting in the delayed set (sync items in a retry backoff,
 * batch shards between polls) are promoted so they are processed now rather than minutes later,
 * letting the run finalize.
 */
export async function promoteDelayedJobs<T extends { runId: string }>(queue: Queue<T>, runId: string, pageSize = 500): Promise<number> {
  // Collect first: promoting while paging would shift the pages under us.
  const ours = [];
  for (let start = 0; ; start += pageSize) {
    const jobs = await queue.getDelayed(start, start + pageSize - 1);
    ours.push(...jobs.filter((job) => job.data.runId === runId));
    if (jobs.length < pageSize) break;
  }
  let promoted = 0;
  for (const job of ours) {
    await job.promote().then(
      () => (promoted += 1),
      () => undefined, // already moved on by another worker
    );
  }
  return promoted;
}
