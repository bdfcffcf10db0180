import type { Logger } from 'pino';
import type { RunSummary } from '../manifest/run-summary.js';
import type { RunConfig } from '../runs/run-config.js';
import { postWebhook, WebhookRefused } from './post-webhook.js';
import { runEndedText } from './run-ended-text.js';
import { signWebhookBody } from './sign-webhook-body.js';

export interface NotifyDeps {
  logger: Logger;
  /** Where the secret named by `secretEnv` is looked up: the finalizing worker's environment. */
  env: Readonly<Record<string, string | undefined>>;
  /** BUNCH_NOTIFY_ALLOW_PRIVATE=1: webhooks on private and loopback addresses (tests, in-cluster receivers). */
  allowPrivate: boolean;
  /** Waits before the 2nd, 3rd, … attempt; the last one repeats. Default 1 s, 4 s, 10 s. */
  retryDelaysMs?: readonly number[];
  /** Unix seconds for `x-bunch-timestamp` (tests pin it). */
  now?: () => number;
}

export type NotifyOutcome = 'sent' | 'failed' | 'refused' | 'no-secret' | 'none';

const DEFAULT_RETRY_DELAYS_MS = [1000, 4000, 10_000] as const;

/**
 * Tells the job's webhook that a run ended: POSTs `{ ...summary, text }` (the summary.json the run
 * just wrote, plus a Slack-compatible line), signed as `sign-webhook-body.ts` describes, with a
 * timeout per attempt and up to `attempts` tries with growing waits. An answer that another try
 * cannot change (a refused address, a 3xx or a 4xx other than 408/429) ends the tries at once.
 *
 * It never throws and never fails the run: success is one info line, any failure one warning
 * line. Log lines name the webhook by origin only (a Slack webhook's path is its credential) and
 * never carry the secret, which is read from the environment here and nowhere else.
 */
export async function notifyRunEnded(config: RunConfig, summary: RunSummary, deps: NotifyDeps): Promise<NotifyOutcome> {
  const webhook = config.notify?.webhook;
  if (!webhook) return 'none';
  const url = new URL(webhook.url);
  const log = { runId: summary.runId, webhook: url.origin };
  const secret = deps.env[webhook.secretEnv];
  if (!secret) {
    deps.logger.warn({ ...log, secretEnv: webhook.secretEnv, outcome: 'no-secret' }, 'webhook not sent: its secret variable is not set on this worker');
    return 'no-secret';
  }
  const body = JSON.stringify({ ...summary, text: runEndedText(summary) });
  const delays = deps.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  let last = '';
  let made = 0;
  for (let attempt = 1; attempt <= webhook.attempts; attempt += 1) {
    // Signed afresh each time: the timestamp says when this attempt was made.
    const headers = signWebhookBody(body, secret, now());
    made = attempt;
    try {
      const status = await postWebhook(url, body, headers, { timeoutMs: webhook.timeoutMs, policy: { allowHosts: [], allowPrivate: deps.allowPrivate } });
      if (status >= 200 && status < 300) {
        deps.logger.info({ ...log, status, attempt }, 'webhook delivered');
        return 'sent';
      }
      last = `answered ${status}`;
      if (!retryableStatus(status)) break;
    } catch (error) {
      if (error instanceof WebhookRefused) {
        deps.logger.warn({ ...log, outcome: 'refused', reason: error.message }, 'webhook not sent: address refused (BUNCH_NOTIFY_ALLOW_PRIVATE=1 allows private addresses)');
        return 'refused';
      }
      last = (error as Error).message;
    }
    deps.logger.debug({ ...log, attempt, last }, 'webhook attempt failed');
    if (attempt < webhook.attempts) await sleep(delays[Math.min(attempt - 1, delays.length - 1)] ?? 0);
  }
  deps.logger.warn({ ...log, outcome: 'failed', attempts: made, last }, 'webhook not delivered; the run itself is unaffected');
  return 'failed';
}

/** Server trouble, a timeout or a rate limit may pass; a redirect or another client error will not. */
function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
