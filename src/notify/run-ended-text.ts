import type { RunSummary } from '../manifest/run-summary.js';

/**
 * The one line a chat channel shows for a run that ended: job, run id, status, counts, cost.
 * Slack incoming webhooks (and Mattermost, Discord's Slack-compatible endpoint) read `text`.
 * Job names and run ids are ours, not catalog text, so no chat markup needs escaping.
 */
export function runEndedText(summary: RunSummary): string {
  const { counts } = summary;
  return (
    `bunch: run ${summary.runId} of ${summary.jobName} ${summary.status}` +
    `: ${counts.succeeded} succeeded, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.cancelled} cancelled` +
    (summary.rejectedRows ? `, ${summary.rejectedRows} rejected rows` : '') +
    `; $${summary.costUsd.toFixed(2)}`
  );
}
