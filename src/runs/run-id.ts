import { randomBytes } from 'node:crypto';

/**
 * `<job-name>-<UTC yyyymmddThhmmss>-<6 hex>`: sortable by start time, readable in `bunch status`,
 * and free of `:` (BullMQ job ids derived from it must not contain colons).
 */
export function newRunId(jobName: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
  return `${jobSlug(jobName)}-${stamp}-${randomBytes(3).toString('hex')}`;
}

function jobSlug(jobName: string): string {
  return jobName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'run';
}

/**
 * Whether a run id could belong to this job (newRunId's shape with the job's slug): a cheap
 * filter before reading a run's meta. Two names may share a slug; the meta says for sure.
 */
export function mayBeRunOf(runId: string, jobName: string): boolean {
  const slug = jobSlug(jobName);
  return runId.startsWith(`${slug}-`) && /^\d{8}T\d{6}-[0-9a-f]{6}$/.test(runId.slice(slug.length + 1));
}
