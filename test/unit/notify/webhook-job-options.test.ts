import { describe, expect, it } from 'vitest';
import { resolveJob } from '../../../src/spec/resolve-job.js';
import { runConfigFromJob } from '../../../src/runs/run-config-from-job.js';

/** `notify.webhook` in a job file: defaults, and every refusal names its field (E_JOB_FILE). */
const FILE = 'jobs/x.yaml';

function job(webhook: Record<string, unknown>): unknown {
  return {
    name: 'x',
    catalog: { path: 'catalogs/p.csv', key: 'sku' },
    model: 'gemini-3.1-flash-image-preview',
    prompt: 'Photo of {{title}}',
    output: { url: 'file://../out' },
    notify: { webhook },
  };
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('job notify.webhook', () => {
  it('resolves with defaults (10 s per attempt, 3 attempts), and the run config keeps only the variable name', () => {
    const resolved = resolveJob(job({ url: 'https://hooks.example.com/bunch', secretEnv: 'BUNCH_WEBHOOK_SECRET' }), { file: FILE });
    expect(resolved.notify).toEqual({ webhook: { url: 'https://hooks.example.com/bunch', secretEnv: 'BUNCH_WEBHOOK_SECRET', timeoutMs: 10_000, attempts: 3 } });
    const config = runConfigFromJob(resolved, 'run-1', new Date(0));
    expect(config.notify).toEqual({ webhook: { url: 'https://hooks.example.com/bunch', secretEnv: 'BUNCH_WEBHOOK_SECRET', timeoutMs: 10_000, attempts: 3 } });
    expect(resolveJob(job({ url: 'http://10.0.0.5:8080/h', secretEnv: 'S', timeout: '30s', attempts: 5 }), { file: FILE }).notify?.webhook).toMatchObject({ timeoutMs: 30_000, attempts: 5 });
  });

  it.each([
    [{ url: 'ftp://hooks.example.com', secretEnv: 'S' }, 'notify.webhook.url', 'must be an http(s) URL'],
    [{ url: 'not a url', secretEnv: 'S' }, 'notify.webhook.url', 'must be an http(s) URL'],
    [{ url: 'https://user:pw@hooks.example.com', secretEnv: 'S' }, 'notify.webhook.url', 'user name or password'],
    [{ url: 'https://hooks.example.com', secretEnv: 's3cr3t-value!' }, 'notify.webhook.secretEnv', 'must name an environment variable'],
    [{ url: 'https://hooks.example.com', secretEnv: '1ABC' }, 'notify.webhook.secretEnv', 'must name an environment variable'],
    [{ url: 'https://hooks.example.com', secretEnv: 'S', timeout: '2m' }, 'notify.webhook.timeout', 'at most 60s'],
    [{ url: 'https://hooks.example.com', secretEnv: 'S', timeout: 'soon' }, 'notify.webhook.timeout', 'not a duration'],
    [{ url: 'https://hooks.example.com', secretEnv: 'S', attempts: 0 }, 'notify.webhook.attempts', ''],
    [{ url: 'https://hooks.example.com', secretEnv: 'S', attempts: 11 }, 'notify.webhook.attempts', ''],
    [{ url: 'https://hooks.example.com' }, 'notify.webhook.secretEnv', ''],
  ])('refuses %j, naming %s', (webhook, field, words) => {
    expect(() => resolveJob(job(webhook), { file: FILE })).toThrow(
      expect.objectContaining({ code: 'E_JOB_FILE', message: expect.stringMatching(new RegExp(`${escape(field)}.*${escape(words)}`)) }),
    );
  });
});
