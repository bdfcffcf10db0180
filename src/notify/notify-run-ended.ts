import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { RunSummary } from '../manifest/run-summary.js';
import type { RunConfig } from '../runs/run-config.js';
import { postWebhook, WebhookRefused } from './post-webhook.js';

export interface NotifyDeps {
  logger: Logger;
  /** Where the secret named by `secretEnv` is looked up (the worker's environment). */
  env: Readonly<Record<string, string | undefined>>;
  /** BUNCH_NOTIFY_ALLOW_PRIVATE=1: webhooks on private and loopback addresses (tests, in-cluster receivers). */
  allowPrivate: boolean;
  /** Waits between attempts (tests shorten them). */
  retryDelaysMs?: readonly number[];
}

export type NotifyOutcome = 'sent' | 'failed' | 'refused' | 'no-secret' | 'none';

/**
 * Tells the job's webhook that a run ended: POSTs the summary (plus a Slack-compatible `text`)
 * signed with HMAC-SHA256 over `<timestamp>.<body>` (headers `x-bunch-timestamp`,
 * `x-bunch-signature: sha256=<hex>`), with a timeout and retries. Whatever happens is logged and
 * returned; it never fails the run or its finalization.
 */
export async function notifyRunEnded(config: RunConfig, summary: RunSummary, deps: NotifyDeps): Promise<NotifyOutcome> {
  const webhook = config.notify?.webhook;
  if (!webhook) return 'none';
  const log = { runId: summary.runId, webhook: new URL(webhook.url).origin };
  const secret = deps.env[webhook.secretEnv];
  if (!secret) {
    deps.logger.warn({ ...log, secretEnv: webhook.secretEnv }, 'webhook not sent: its secret variable is not set on this worker');
    return 'no-secret';
  }
  const body = JSON.stringify({ ...summary, text: slackText(summary) });
  const delays = deps.retryDelaysMs ?? [1000, 4000, 10_000];
  for (let attempt = 1; attempt <= webhook.attempts; attempt += 1) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
    try {
      const status = await postWebhook(new URL(webhook.url), body, { 'x-bunch-timestamp': timestamp, 'x-bunch-signature': `sha256=${signature}` }, {
        timeoutMs: webhook.timeoutMs,
        policy: { allowHosts: [], allowPrivate: deps.allowPrivate },
      });
      if (status >= 200 && status < 300) {
        deps.logger.info({ ...log, status, attempt }, 'webhook delivered');
        return 'sent';
      }
      deps.logger.warn({ ...log, status, attempt }, 'webhook answered with an error status');
    } catch (error) {
      if (error instanceof WebhookRefused) {
        deps.logger.warn({ ...log, reason: error.message }, 'webhook not sent: address refused');
        return 'refused';
      }
      deps.logger.warn({ ...log, attempt, err: { message: (error as Error).message } }, 'webhook delivery failed');
    }
    if (attempt < webhook.attempts) await new Promise((resolve) => setTimeout(resolve, delays[Math.min(attempt - 1, delays.length - 1)]));
  }
  deps.logger.warn({ ...log, attempts: webhook.attempts }, 'webhook gave up: the run itself is unaffected');
  return 'failed';
}

/** One line a chat channel shows as is (Slack incoming webhooks read `text`). */
export function slackText(summary: RunSummary): string {
  const { counts } = summary;
  return (
    `bunch: run ${summary.runId} of ${summary.jobName} ${summary.status}` +
    `: ${counts.succeeded} succeeded, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.cancelled} cancelled` +
    (summary.rejectedRows ? `, ${summary.rejectedRows} rejected rows` : '') +
    `; $${summary.costUsd.toFixed(2)}`
  );
}
