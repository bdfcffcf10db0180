import { BunchError } from '../errors/bunch-error.js';
import { CHECKSUM_MODES, type ChecksumMode, type S3Settings } from './s3-settings.js';

/**
 * S3 settings from environment variables, for the entry points (CLI, workers) only:
 *   BUNCH_S3_ENDPOINT, else AWS_ENDPOINT_URL_S3   custom endpoint (MinIO, R2, ...)
 *   AWS_REGION                                    region
 *   BUNCH_S3_FORCE_PATH_STYLE                     true/false (also 1/0, yes/no)
 *   BUNCH_S3_CHECKSUM_MODE                        when_required (default) | when_supported
 * Credentials are deliberately not read here: the AWS SDK's default chain reads
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, profiles and instance roles itself.
 * Empty variables count as unset.
 */
export function s3OptionsFromEnv(env: Readonly<Record<string, string | undefined>>): Readonly<S3Settings> {
  const settings: S3Settings = {};
  const endpoint = value(env, 'BUNCH_S3_ENDPOINT') ?? value(env, 'AWS_ENDPOINT_URL_S3');
  if (endpoint !== undefined) settings.endpoint = endpoint;
  const region = value(env, 'AWS_REGION');
  if (region !== undefined) settings.region = region;
  const pathStyle = value(env, 'BUNCH_S3_FORCE_PATH_STYLE');
  if (pathStyle !== undefined) settings.forcePathStyle = parseBoolean('BUNCH_S3_FORCE_PATH_STYLE', pathStyle);
  const checksumMode = value(env, 'BUNCH_S3_CHECKSUM_MODE');
  if (checksumMode !== undefined) settings.checksumMode = parseChecksumMode(checksumMode);
  const connectTimeout = value(env, 'BUNCH_S3_CONNECT_TIMEOUT_MS');
  if (connectTimeout !== undefined) settings.connectTimeoutMs = parseMilliseconds('BUNCH_S3_CONNECT_TIMEOUT_MS', connectTimeout);
  const requestTimeout = value(env, 'BUNCH_S3_REQUEST_TIMEOUT_MS');
  if (requestTimeout !== undefined) settings.requestTimeoutMs = parseMilliseconds('BUNCH_S3_REQUEST_TIMEOUT_MS', requestTimeout);
  return Object.freeze(settings);
}

function value(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const text = env[name]?.trim();
  return text === undefined || text === '' ? undefined : text;
}

function parseBoolean(name: string, text: string): boolean {
  const lower = text.toLowerCase();
  if (lower === 'true' || lower === '1' || lower === 'yes') return true;
  if (lower === 'false' || lower === '0' || lower === 'no') return false;
  throw new BunchError('E_CONFIG', `${name} must be true or false, got ${JSON.stringify(text)}`);
}

function parseChecksumMode(text: string): ChecksumMode {
  const mode = CHECKSUM_MODES.find((candidate) => candidate === text.toLowerCase());
  if (mode === undefined) {
    throw new BunchError(
      'E_CONFIG',
      `BUNCH_S3_CHECKSUM_MODE must be one of ${CHECKSUM_MODES.join(', ')}, got ${JSON.stringify(text)}`,
    );
  }
  return mode;
}

function parseMilliseconds(name: string, text: string): number {
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 100 || ms > 3_600_000) {
    throw new BunchError('E_CONFIG', `${name} must be a whole number of milliseconds from 100 to 3600000, got ${JSON.stringify(text)}`);
  }
  return ms;
}
