import { BunchError } from '../errors/bunch-error.js';
import { integerFlag } from './number-flag.js';
import { s3OptionsFromEnv } from '../storage/s3-options-from-env.js';
import type { S3Settings } from '../storage/s3-settings.js';
import { DEFAULT_PREFIX } from '../lanes/run-queues.js';

/**
 * Settings bunch reads from the environment. Only entry points (CLI verbs, worker processes)
 * call this; library code receives resolved values. Precedence everywhere: flag → environment →
 * job file → default.
 */
export interface BunchEnvironment {
  redisUrl: string | undefined;
  prefix: string;
  geminiBaseUrl: string;
  geminiApiKey: string | undefined;
  s3: S3Settings;
  logLevel: string;
  /** BUNCH_REFERENCES_ALLOW_PRIVATE=1: reference images may come from private/loopback addresses (tests, local demos). */
  allowPrivateReferences: boolean;
  /** BUNCH_CONCURRENCY: concurrent calls of a `bunch worker` (its `-c` flag wins). */
  workerConcurrency: number | undefined;
  /** BUNCH_LOCK_DURATION_MS, BUNCH_STALLED_INTERVAL_MS: BullMQ lock and stall timings of workers. */
  lockDurationMs: number | undefined;
  stalledIntervalMs: number | undefined;
}

export const GOOGLE_BASE_URL = 'https://generativelanguage.googleapis.com';

export function readEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): BunchEnvironment {
  return {
    redisUrl: env.REDIS_URL || undefined,
    prefix: env.BUNCH_PREFIX || DEFAULT_PREFIX,
    geminiBaseUrl: (env.GEMINI_BASE_URL || GOOGLE_BASE_URL).replace(/\/+$/, ''),
    geminiApiKey: env.GEMINI_API_KEY || env.GOOGLE_API_KEY || undefined,
    s3: s3OptionsFromEnv(env),
    logLevel: env.BUNCH_LOG_LEVEL || 'info',
    allowPrivateReferences: env.BUNCH_REFERENCES_ALLOW_PRIVATE === '1' || env.BUNCH_REFERENCES_ALLOW_PRIVATE === 'true',
    workerConcurrency: optionalInteger(env, 'BUNCH_CONCURRENCY', 1, 1000),
    // Locks are renewed during long calls, so these need only exceed the longest event-loop stall.
    lockDurationMs: optionalInteger(env, 'BUNCH_LOCK_DURATION_MS', 1000, 3_600_000),
    stalledIntervalMs: optionalInteger(env, 'BUNCH_STALLED_INTERVAL_MS', 1000, 3_600_000),
  };
}

/** An unset or empty variable is undefined; anything else must be a whole number in range (E_CONFIG naming it). */
function optionalInteger(env: Readonly<Record<string, string | undefined>>, name: string, min: number, max: number): number | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : integerFlag(name, value, { min, max });
}

export function requireRedisUrl(flag: string | undefined, environment: BunchEnvironment): string {
  const url = flag ?? environment.redisUrl;
  if (!url) {
    throw new BunchError(
      'E_CONFIG',
      'no Redis configured: pass --redis-url or set REDIS_URL (e.g. redis://127.0.0.1:6379); `bunch demo` starts a private one',
    );
  }
  return url;
}

export function requireApiKey(environment: BunchEnvironment): string {
  if (!environment.geminiApiKey) {
    throw new BunchError('E_CONFIG', 'GEMINI_API_KEY is not set: workers need it to call the model');
  }
  return environment.geminiApiKey;
}
