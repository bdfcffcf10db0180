import { randomBytes } from 'node:crypto';

/**
 * `<job-name>-<UTC yyyymmddThhmmss>-<6 hex>`: sortable by start time, readable in `bunch status`,
 * and free of `:` (BullMQ job ids derived from it must not contain colons).
 */
export function newRunId(jobName: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
  const slug = jobName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'run';
  return `${slug}-${stamp}-${randomBytes(3).toString('hex')}`;
}
