import { createHmac } from 'node:crypto';

/**
 * The signature headers of a webhook POST, as a receiver verifies them:
 *   x-bunch-timestamp: <unix seconds>
 *   x-bunch-signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the shared secret>
 * The timestamp is inside the signed bytes so a captured request cannot be replayed later with a
 * fresh timestamp; receivers should refuse timestamps more than a few minutes old (the scheme of
 * Stripe's and Slack's own signatures). `body` must be the exact bytes sent.
 */
export function signWebhookBody(body: string, secret: string, timestamp: number): Record<'x-bunch-timestamp' | 'x-bunch-signature', string> {
  const stamp = String(timestamp);
  const signature = createHmac('sha256', secret).update(`${stamp}.${body}`).digest('hex');
  return { 'x-bunch-timestamp': stamp, 'x-bunch-signature': `sha256=${signature}` };
}
