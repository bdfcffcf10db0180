import type { RunMeta } from './run-store.js';

/**
 * A run's state as it is shown to people (`bunch status --json`, the console's `/api/runs`):
 * the run's config keeps its webhook URL for the worker that notifies, but the URL's path and
 * query are often its credential (a Slack incoming webhook's path is), so only its origin is shown.
 */
export function publicRunMeta(meta: RunMeta): RunMeta {
  const webhook = meta.config.notify?.webhook;
  if (!webhook) return meta;
  return { ...meta, config: { ...meta.config, notify: { ...meta.config.notify, webhook: { ...webhook, url: shownWebhookUrl(webhook.url) } } } };
}

/** `https://hooks.example.com/[redacted]`: where it goes, not what opens it. */
export function shownWebhookUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.pathname === '/' && parsed.search === '' ? parsed.origin : `${parsed.origin}/[redacted]`;
  } catch {
    return '[redacted]';
  }
}
