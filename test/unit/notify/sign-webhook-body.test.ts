import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhookBody } from '../../../src/notify/sign-webhook-body.js';

describe('signWebhookBody', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256, as a receiver recomputes it', () => {
    const body = '{"runId":"r1","text":"bunch: run r1 …"}';
    const headers = signWebhookBody(body, 'shh', 1_700_000_000);
    expect(headers['x-bunch-timestamp']).toBe('1700000000');
    expect(headers['x-bunch-signature']).toBe(`sha256=${createHmac('sha256', 'shh').update(`1700000000.${body}`).digest('hex')}`);
  });

  it('changes with the timestamp, the body and the secret, and never contains the secret', () => {
    const base = signWebhookBody('{}', 'secret-value', 1)['x-bunch-signature'];
    expect(signWebhookBody('{}', 'secret-value', 2)['x-bunch-signature']).not.toBe(base);
    expect(signWebhookBody('{ }', 'secret-value', 1)['x-bunch-signature']).not.toBe(base);
    expect(signWebhookBody('{}', 'other-secret', 1)['x-bunch-signature']).not.toBe(base);
    expect(JSON.stringify(signWebhookBody('{}', 'secret-value', 1))).not.toContain('secret-value');
  });
});
