/**
 * Every setting of a CLI verb or worker process, resolved and checked in one place with one
 * precedence: flag → environment → job file → default. Only entry points call this (the verbs in
 * `cli/commands/`); library code receives the frozen result. A bad value is an `E_CONFIG` that
 * names the flag or variable (exit 2), never a NaN deep inside BullMQ.
 */
import { BunchError } from '../errors/bunch-error.js';
import type { GatewaySettings } from '../protocols/gateway-settings.js';
import { DEFAULT_PREFIX } from '../lanes/run-queues.js';
import type { ResolvedJob } from '../spec/resolved-job.js';
import { s3OptionsFromEnv } from '../storage/s3-options-from-env.js';
import type { S3Settings } from '../storage/s3-settings.js';
import { DEFAULT_OUTAGE_TOLERANCE_MS } from './follow-run.js';
import { integerFlag } from './number-flag.js';

export const GOOGLE_BASE_URL = 'https://generativelanguage.googleapis.com';
const DEFAULT_CONCURRENCY = 8;
const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Flags the verbs share; each verb passes the ones it has. */
export interface SettingsFlags {
  redisUrl?: string | undefined;
  prefix?: string | undefined;
  /** `--concurrency`, `-c`, or `--workers <n>`; `true` (a bare `--workers`) means "not given". */
  concurrency?: string | boolean | undefined;
  /** The flag's name as typed, for messages (default `--concurrency`). */
  concurrencyFlag?: string;
}

export interface ResolvedSettings {
  /** flag → REDIS_URL; undefined when neither is set (verbs that need Redis call requireRedisUrl). */
  readonly redisUrl: string | undefined;
  /** flag → BUNCH_PREFIX → "bunch" */
  readonly prefix: string;
  /** BUNCH_LOG_LEVEL → "info" */
  readonly logLevel: string;
  /** Concurrent calls of workers this process runs: flag → BUNCH_CONCURRENCY → job's sync.concurrency → 8 */
  readonly concurrency: number;
  /** BUNCH_LOCK_DURATION_MS, BUNCH_STALLED_INTERVAL_MS → BullMQ defaults (undefined) */
  readonly lockDurationMs: number | undefined;
  readonly stalledIntervalMs: number | undefined;
  /** BUNCH_FOLLOW_OUTAGE_LIMIT_MS → 10 min: how long `--wait` keeps following a run through a Redis outage. */
  readonly followOutageLimitMs: number;
  /** BUNCH_SHUTDOWN_GRACE_MS → 30 s: how long a stopping worker waits for in-flight items; the rest are taken up by another worker. */
  readonly shutdownGraceMs: number;
  /** GEMINI_BASE_URL → Google; GEMINI_API_KEY (or GOOGLE_API_KEY) */
  readonly geminiBaseUrl: string;
  readonly geminiApiKey: string | undefined;
  /**
   * Gateways' non-native protocols (jobs with `protocol: openai | anthropic`): OPENAI_BASE_URL,
   * OPENAI_API_KEY, BUNCH_OPENAI_MODE (images | chat); ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY. A
   * missing key falls back to GEMINI_API_KEY: a gateway takes one key on all its protocols.
   */
  readonly gateways: GatewaySettings;
  readonly s3: S3Settings;
  /** BUNCH_REFERENCES_ALLOW_PRIVATE=1: reference images may come from private/loopback addresses (tests, local demos). */
  readonly allowPrivateReferences: boolean;
  /** BUNCH_NOTIFY_ALLOW_PRIVATE=1: job webhooks may go to private/loopback addresses (in-cluster receivers, tests). */
  readonly allowPrivateWebhooks: boolean;
}

export function resolveSettings(
  flags: SettingsFlags = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
  job?: ResolvedJob,
): ResolvedSettings {
  const logLevel = env.BUNCH_LOG_LEVEL || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new BunchError('E_CONFIG', `BUNCH_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  }
  const flagConcurrency = typeof flags.concurrency === 'string' ? flags.concurrency : undefined;
  const concurrency =
    flagConcurrency !== undefined
      ? integerFlag(flags.concurrencyFlag ?? '--concurrency', flagConcurrency, { min: 1, max: 1000 })
      : (optionalInteger(env, 'BUNCH_CONCURRENCY', 1, 1000) ?? job?.sync.concurrency ?? DEFAULT_CONCURRENCY);
  return Object.freeze({
    redisUrl: flags.redisUrl ?? (env.REDIS_URL || undefined),
    prefix: flags.prefix ?? (env.BUNCH_PREFIX || DEFAULT_PREFIX),
    logLevel,
    concurrency,
    // Locks are renewed during long calls, so these need only exceed the longest event-loop stall.
    lockDurationMs: optionalInteger(env, 'BUNCH_LOCK_DURATION_MS', 1000, 3_600_000),
    stalledIntervalMs: optionalInteger(env, 'BUNCH_STALLED_INTERVAL_MS', 1000, 3_600_000),
    shutdownGraceMs: optionalInteger(env, 'BUNCH_SHUTDOWN_GRACE_MS', 100, 3_600_000) ?? DEFAULT_SHUTDOWN_GRACE_MS,
    followOutageLimitMs: optionalInteger(env, 'BUNCH_FOLLOW_OUTAGE_LIMIT_MS', 1000, 24 * 3_600_000) ?? DEFAULT_OUTAGE_TOLERANCE_MS,
    geminiBaseUrl: (env.GEMINI_BASE_URL || GOOGLE_BASE_URL).replace(/\/+$/, ''),
    geminiApiKey: env.GEMINI_API_KEY || env.GOOGLE_API_KEY || undefined,
    gateways: gatewaysFromEnv(env),
    s3: s3OptionsFromEnv(env),
    allowPrivateReferences: env.BUNCH_REFERENCES_ALLOW_PRIVATE === '1' || env.BUNCH_REFERENCES_ALLOW_PRIVATE === 'true',
    allowPrivateWebhooks: env.BUNCH_NOTIFY_ALLOW_PRIVATE === '1' || env.BUNCH_NOTIFY_ALLOW_PRIVATE === 'true',
  });
}

function gatewaysFromEnv(env: Readonly<Record<string, string | undefined>>): GatewaySettings {
  const fallbackKey = env.GEMINI_API_KEY || env.GOOGLE_API_KEY || undefined;
  const mode = env.BUNCH_OPENAI_MODE || 'images';
  if (mode !== 'images' && mode !== 'chat') throw new BunchError('E_CONFIG', `BUNCH_OPENAI_MODE must be images or chat, got ${JSON.stringify(mode)}`);
  return {
    // The Gemini key stands in only for a gateway named by its base URL (one key on all of a
    // gateway's protocols): without one the SDK would send it to api.openai.com or api.anthropic.com.
    openai: { baseUrl: plainBaseUrl(env, 'OPENAI_BASE_URL', 'OPENAI_API_KEY'), apiKey: env.OPENAI_API_KEY || (env.OPENAI_BASE_URL ? fallbackKey : undefined), mode },
    anthropic: { baseUrl: plainBaseUrl(env, 'ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY'), apiKey: env.ANTHROPIC_API_KEY || (env.ANTHROPIC_BASE_URL ? fallbackKey : undefined) },
  };
}

/**
 * A gateway's base URL, refused with credentials or a query string in it, as GEMINI_BASE_URL is:
 * the SDKs quote the URL whole in their errors, which items carry into manifests and logs.
 * The value itself is never quoted back (a mistyped one may hold the very secret).
 */
function plainBaseUrl(env: Readonly<Record<string, string | undefined>>, name: string, keyName: string): string | undefined {
  const value = env[name];
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BunchError('E_CONFIG', `${name} is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new BunchError('E_CONFIG', `${name} must be http(s), got ${url.protocol}`);
  if (url.search !== '' || url.username !== '' || url.password !== '') {
    throw new BunchError('E_CONFIG', `${name} must not carry a query string or credentials (the key goes in ${keyName})`);
  }
  return value;
}

/** An unset or empty variable is undefined; anything else must be a whole number in range (E_CONFIG naming it). */
function optionalInteger(env: Readonly<Record<string, string | undefined>>, name: string, min: number, max: number): number | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : integerFlag(name, value, { min, max });
}

export function requireRedisUrl(settings: ResolvedSettings): string {
  if (!settings.redisUrl) {
    throw new BunchError(
      'E_CONFIG',
      'no Redis configured: pass --redis-url or set REDIS_URL (e.g. redis://127.0.0.1:6379); `bunch demo` starts a private one',
    );
  }
  return settings.redisUrl;
}

export function requireApiKey(settings: ResolvedSettings): string {
  if (!settings.geminiApiKey) {
    throw new BunchError('E_CONFIG', 'GEMINI_API_KEY is not set: workers need it to call the model');
  }
  return settings.geminiApiKey;
}
