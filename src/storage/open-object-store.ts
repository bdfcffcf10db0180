import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BunchError } from '../errors/bunch-error.js';
import { LocalObjectStore } from './local-object-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3-object-store.js';
import type { S3Settings } from './s3-settings.js';

export interface ObjectStoreOptions {
  /** Where relative `file://` directories resolve from. Default: the current directory. */
  baseDir?: string;
  /** Endpoint, region, path style, checksum mode, credentials for `s3://` URLs (see `s3OptionsFromEnv`). */
  s3?: S3Settings;
}

/**
 * Opens the store an output URL names. No I/O happens here (the S3 client connects lazily, the
 * local directory is created on first write).
 *   s3://bucket[/prefix]     S3 or an S3-compatible server
 *   file:///abs/dir          absolute directory (percent-escapes decoded, as in any file URL)
 *   file://./out, file://out directory relative to `baseDir`
 */
export function openObjectStore(url: string, options: ObjectStoreOptions = {}): ObjectStore {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 's3') return openS3(url, options);
  if (scheme === 'file') return new LocalObjectStore({ root: localRoot(url, options.baseDir) });
  throw new BunchError(
    'E_CONFIG',
    `Unsupported storage URL ${JSON.stringify(url)}: expected s3://bucket/prefix or file://dir`,
  );
}

function openS3(url: string, options: ObjectStoreOptions): ObjectStore {
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  if (bucket === '') throw new BunchError('E_CONFIG', `Storage URL ${JSON.stringify(url)} names no bucket`);
  if (prefix.split('/').some((segment) => segment === '..' || segment === '.') || prefix.includes('//')) {
    throw new BunchError('E_CONFIG', `Storage URL ${JSON.stringify(url)} has an unsafe prefix`);
  }
  return new S3ObjectStore({ ...options.s3, bucket, prefix });
}

function localRoot(url: string, baseDir: string | undefined): string {
  const rest = url.slice('file://'.length);
  // `file:///abs` and `file://localhost/abs` are real file URLs; anything else is our relative form,
  // which the WHATWG parser would misread (`file://out` has host "out").
  if (rest.startsWith('/') || rest.startsWith('localhost/')) return fileURLToPath(url);
  if (rest === '' ) throw new BunchError('E_CONFIG', `Storage URL ${JSON.stringify(url)} names no directory`);
  let relative: string;
  try {
    relative = decodeURIComponent(rest);
  } catch (error) {
    throw new BunchError('E_CONFIG', `Storage URL ${JSON.stringify(url)} has a bad percent-escape`, { cause: error });
  }
  return path.resolve(baseDir ?? process.cwd(), relative);
}
