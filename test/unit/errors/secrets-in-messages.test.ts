import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../../../src/cli/resolve-settings.js';
import { redactSecrets } from '../../../src/errors/redact-secrets.js';
import { strictModeError } from '../../../src/lanes/strict-mode-error.js';
import { rejectedLine } from '../../../src/manifest/rejected-line.js';
import { parseReferenceLocation } from '../../../src/references/reference-location.js';
import { classifyHttpError } from '../../../src/gemini/classify-outcome.js';
import { resolveGeminiClientConfig } from '../../../src/gemini/gemini-client.js';
import { maskRedisUrl, parseRedisUrl } from '../../../src/redis/redis-topology.js';
import { publicRunMeta, shownWebhookUrl } from '../../../src/runs/public-run-meta.js';
import type { RunMeta } from '../../../src/runs/run-store.js';
import { config } from '../../helpers/run-fixtures.js';

/**
 * Secrets an audit found on their way out (each test failed on the code before it): in item
 * errors, manifests, rejected rows, `bunch status --json` and the console's API.
 */
describe('secrets in messages', () => {
  it('masks credentials in URLs and credential query parameters, whatever the message', () => {
    expect(
      redactSecrets('OpenAI-compatible connection failed: Request cannot be constructed from a URL that includes credentials: http://u:GwPass55@127.0.0.1:38331/v1/images'),
    ).toBe('OpenAI-compatible connection failed: Request cannot be constructed from a URL that includes credentials: http://[redacted]@127.0.0.1:38331/v1/images');
    expect(redactSecrets('AKIAFAKE:S3UrlSecret91@bunch-test/x.jpg is not read')).toBe('[redacted]@bunch-test/x.jpg is not read');
    const s3Cell = parseReferenceLocation('s3://AKIAFAKE:S3UrlSecret91@bunch-test/x.jpg', '/catalogs');
    expect(s3Cell).toEqual({ error: 's3://…@bunch-test/x.jpg holds credentials before its bucket; give the bucket alone (credentials come from the environment)' });
    expect(redactSecrets('"ftp://u:FtpPw95@host/x.jpg": ftp: locations are not supported')).toBe('"ftp://[redacted]@host/x.jpg": ftp: locations are not supported');
    expect(redactSecrets('"file:///etc/hosts?token=FileTok93" is outside; photos/x.jpg?sig=RelTok97&w=2 cannot be read')).toBe(
      '"file:///etc/hosts?token=[redacted]" is outside; photos/x.jpg?sig=[redacted]&w=2 cannot be read',
    );
    expect(redactSecrets('https://b.s3.amazonaws.com/k.png?X-Amz-Credential=AKIAX%2F1&X-Amz-Signature=abc123')).toBe(
      'https://b.s3.amazonaws.com/k.png?X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]',
    );
    // What must stay: masked Redis URLs, times, e-mail-like text, an @ in a path, model versions,
    // a user name alone, and it takes linear time on a long input.
    const plain =
      'redis://:***@127.0.0.1:6379 and redis://bob:***@h:1; at 12:30; bob@example.com; https://example.com/a@b; E_X: a:b c; ' +
      'mailto:support@example.com "10:30@home" anthropic:claude-3-5-sonnet@20240620 ssh://git@github.com/x';
    const long = 'ab.cd-'.repeat(200_000);
    const started = performance.now();
    expect(redactSecrets(long)).toBe(long);
    // Generous: the open-ended scheme took ~10 minutes on a megabyte.
    expect(performance.now() - started).toBeLessThan(5000);
    expect(redactSecrets(plain)).toBe(plain);
  });

  it('redacts an echoed key before cutting an upstream message to its limit (before: the cut half-key went out)', () => {
    // Dots keep it from looking like a real key to scanners; redaction goes by the value it is told.
    const key = 'AIza.fake.test.key.0123456789.abcdefghijk';
    const body = JSON.stringify({ error: { code: 400, status: 'INVALID_ARGUMENT', message: `${'p'.repeat(280)} ${key} was refused` } });
    const error = classifyHttpError(400, body, new Headers(), { secrets: [key] });
    expect(error.message).not.toContain('AIza.fake');
    expect(error.message).toContain('[redacted]');
  });

  it('refuses gateway base URLs with credentials or a query, and never quotes an unparsable base URL back', () => {
    expect(() => resolveSettings({}, { OPENAI_BASE_URL: 'http://u:GwPass55@gw.example/v1' })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', message: 'OPENAI_BASE_URL must not carry a query string or credentials (the key goes in OPENAI_API_KEY)' }),
    );
    expect(() => resolveSettings({}, { ANTHROPIC_BASE_URL: 'https://gw.example/v1?k=GwKeyQ56' })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', message: 'ANTHROPIC_BASE_URL must not carry a query string or credentials (the key goes in ANTHROPIC_API_KEY)' }),
    );
    expect(() => resolveSettings({}, { OPENAI_BASE_URL: 'not a url GwPass55' })).toThrow(expect.objectContaining({ code: 'E_CONFIG', message: 'OPENAI_BASE_URL is not a valid URL' }));
    expect(resolveSettings({}, { OPENAI_BASE_URL: 'https://gw.example/v1' }).gateways.openai.baseUrl).toBe('https://gw.example/v1');
    expect(() => resolveGeminiClientConfig({ baseUrl: 'not a url GwPass55' })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', message: 'Gemini base URL (GEMINI_BASE_URL) is not a valid URL' }),
    );
  });

  it('reads a Sentinel or Cluster password holding a raw @ as one password (before: its tail was read as a host and printed)', () => {
    const url = 'redis+sentinel://:Pa@ss:w0rd@127.0.0.1:26379/mymaster';
    expect(parseRedisUrl(url)).toMatchObject({ kind: 'sentinel', sentinels: [{ host: '127.0.0.1', port: 26379 }], password: 'Pa@ss:w0rd' });
    expect(maskRedisUrl(url)).toBe('redis+sentinel://:***@127.0.0.1:26379/mymaster');
    expect(parseRedisUrl('redis+cluster://u:Pa@ssTail@h1:7000,h2:7001')).toMatchObject({ nodes: [{ host: 'h1', port: 7000 }, { host: 'h2', port: 7001 }], username: 'u', password: 'Pa@ssTail' });
  });

  it("keeps a row's credentials out of its rejected line in the manifest", () => {
    const line = rejectedLine('r1', {
      file: 'c.csv',
      rowNumber: 1,
      line: 2,
      key: 'A',
      field: 'photo',
      code: 'E_REFERENCE',
      reason: 'reference "ftp://u:FtpPw95@host/x.jpg": ftp: locations are not supported; photos/x.jpg?sig=RelTok97 cannot be read (ENOENT)',
    });
    expect(line.errorMessage).toBe('reference "ftp://[redacted]@host/x.jpg": ftp: locations are not supported; photos/x.jpg?sig=[redacted] cannot be read (ENOENT)');
  });

  it("keeps a row's credentials out of a strict job's refusal", () => {
    const error = strictModeError(2, { file: 'c.csv', rowNumber: 1, line: 2, field: 'photo', code: 'E_REFERENCE', reason: 'reference photos/x.jpg?sig=RelTok97 cannot be read (ENOENT)' });
    expect(error.message).toBe('strict mode: 2 catalog row(s) rejected; first at c.csv:2 field `photo`: reference photos/x.jpg?sig=[redacted] cannot be read (ENOENT)');
  });

  it("shows a run's webhook by its origin only (a Slack webhook's path is its credential)", () => {
    const meta = {
      config: { ...config('r1'), notify: { webhook: { url: 'https://hooks.example.com/services/T0KENPATH444?token=HOOKTOKEN555', secretEnv: 'S', timeoutMs: 10_000, attempts: 3 } } },
    } as unknown as RunMeta;
    const shown = publicRunMeta(meta);
    expect(shown.config.notify?.webhook).toEqual({ url: 'https://hooks.example.com/[redacted]', secretEnv: 'S', timeoutMs: 10_000, attempts: 3 });
    expect(JSON.stringify(shown)).not.toMatch(/T0KENPATH444|HOOKTOKEN555/);
    // The run's own config (what the finalizing worker sends to) is untouched.
    expect(meta.config.notify?.webhook.url).toBe('https://hooks.example.com/services/T0KENPATH444?token=HOOKTOKEN555');
    expect(shownWebhookUrl('https://hooks.example.com')).toBe('https://hooks.example.com');
  });
});
