import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireApiKey, requireRedisUrl, resolveSettings } from '../../../src/cli/resolve-settings.js';
import { resolveJob } from '../../../src/spec/resolve-job.js';

const job = resolveJob(
  { name: 'j', catalog: { path: 'c.csv', key: 'sku' }, model: 'gemini-3.1-flash-image-preview', prompt: 'p', sync: { concurrency: 24 }, output: { url: 'file://out' } },
  { file: path.resolve('/data/job.yaml') },
);

describe('resolveSettings: flag → environment → job file → default', () => {
  it('takes each setting from the first place that has it', () => {
    expect(resolveSettings({}, {})).toMatchObject({
      redisUrl: undefined,
      prefix: 'bunch',
      logLevel: 'info',
      concurrency: 8,
      lockDurationMs: undefined,
      shutdownGraceMs: 30_000,
      followOutageLimitMs: 600_000,
      geminiBaseUrl: 'https://generativelanguage.googleapis.com',
      allowPrivateReferences: false,
      allowPrivateWebhooks: false,
    });
    expect(resolveSettings({}, {}, job).concurrency).toBe(24);
    const env = { REDIS_URL: 'redis://env:6379', BUNCH_PREFIX: 'envp', BUNCH_CONCURRENCY: '12', BUNCH_LOCK_DURATION_MS: '5000', GEMINI_BASE_URL: 'http://gw.example/' };
    expect(resolveSettings({}, env, job)).toMatchObject({ redisUrl: 'redis://env:6379', prefix: 'envp', concurrency: 12, lockDurationMs: 5000, geminiBaseUrl: 'http://gw.example' });
    expect(resolveSettings({ redisUrl: 'redis://flag:1', prefix: 'flagp', concurrency: '3' }, env, job)).toMatchObject({
      redisUrl: 'redis://flag:1',
      prefix: 'flagp',
      concurrency: 3,
    });
    // A bare `--workers` names no number: the next source decides.
    expect(resolveSettings({ concurrency: true }, {}, job).concurrency).toBe(24);
  });

  it('shutdown grace and the --wait outage limit come from the environment', () => {
    expect(resolveSettings({}, { BUNCH_SHUTDOWN_GRACE_MS: '45000', BUNCH_FOLLOW_OUTAGE_LIMIT_MS: '120000' })).toMatchObject({
      shutdownGraceMs: 45_000,
      followOutageLimitMs: 120_000,
    });
    expect(() => resolveSettings({}, { BUNCH_FOLLOW_OUTAGE_LIMIT_MS: '10m' })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', message: 'BUNCH_FOLLOW_OUTAGE_LIMIT_MS must be a whole number from 1000 to 86400000, got "10m"' }),
    );
  });

  it('refuses bad values with E_CONFIG naming the flag or variable', () => {
    expect(() => resolveSettings({ concurrency: '0', concurrencyFlag: '--workers' }, {})).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', message: '--workers must be a whole number from 1 to 1000, got "0"' }),
    );
    expect(() => resolveSettings({}, { BUNCH_STALLED_INTERVAL_MS: 'soon' })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', message: 'BUNCH_STALLED_INTERVAL_MS must be a whole number from 1000 to 3600000, got "soon"' }),
    );
    expect(() => resolveSettings({}, { BUNCH_SHUTDOWN_GRACE_MS: '-1' })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', message: 'BUNCH_SHUTDOWN_GRACE_MS must be a whole number from 100 to 3600000, got "-1"' }),
    );
    expect(() => resolveSettings({}, { BUNCH_LOG_LEVEL: 'verbose' })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', message: 'BUNCH_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"' }),
    );
    expect(() => requireRedisUrl(resolveSettings({}, {}))).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => requireApiKey(resolveSettings({}, {}))).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(requireApiKey(resolveSettings({}, { GOOGLE_API_KEY: 'k' }))).toBe('k');
  });
});

describe('gateway keys', () => {
  it('lends the Gemini key only to a gateway named by its base URL', () => {
    // Before: with only GEMINI_API_KEY set, a protocol: openai job sent it to api.openai.com.
    expect(resolveSettings({}, { GEMINI_API_KEY: 'google-key' }).gateways).toEqual({
      openai: { baseUrl: undefined, apiKey: undefined, mode: 'images' },
      anthropic: { baseUrl: undefined, apiKey: undefined },
    });
    expect(resolveSettings({}, { GEMINI_API_KEY: 'google-key', OPENAI_BASE_URL: 'https://gw.example/v1', ANTHROPIC_BASE_URL: 'https://gw.example' }).gateways).toEqual({
      openai: { baseUrl: 'https://gw.example/v1', apiKey: 'google-key', mode: 'images' },
      anthropic: { baseUrl: 'https://gw.example', apiKey: 'google-key' },
    });
    expect(resolveSettings({}, { GEMINI_API_KEY: 'google-key', OPENAI_API_KEY: 'openai-key' }).gateways.openai.apiKey).toBe('openai-key');
  });
});
