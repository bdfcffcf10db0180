import { createHash } from 'node:crypto';
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import { BunchError, isBunchError } from '../errors/bunch-error.js';
import type { ResolvedReferences } from './resolved-references.js';
import type { ObjectStore } from '../storage/object-store.js';
import { fetchHttpReference } from './fetch-http-reference.js';
import type { StoredReference } from './item-reference.js';
import { normalizeReference } from './normalize-reference.js';
import { readLimited } from './read-limited.js';
import type { AddressPolicy } from './reference-fetch-options.js';
import type { ReferenceLocation } from './reference-location.js';
import { normalizeSettings, referenceObjectKey, referenceSourceKey } from './reference-object-key.js';

export interface ReferenceResolverDeps {
  settings: ResolvedReferences;
  /** The run's output store: normalised references are kept there under `_bunch/refs/<sha256>`. */
  store: ObjectStore;
  /** Opens `s3://bucket` for `s3://` references (credentials from the environment). */
  openStore(url: string): ObjectStore;
  /** `allowPrivate` comes from the entry point's environment; the job file gives `allowHosts`. */
  allowPrivate: boolean;
  /** `run --dry-run`: fetch and check, but write nothing to storage. */
  dryRun?: boolean;
}

/** What resolving one location gave: the stored reference, or why it cannot be used. */
export type ReferenceOutcome = { ok: true; reference: StoredReference } | { ok: false; error: BunchError };

/**
 * Fetches, normalises and stores reference images for one run. Each distinct location is fetched
 * once per run (outcomes, failures included, are remembered by location), by at most
 * `settings.concurrency` fetches at a time; a content hash already in storage is not written
 * again. Image bytes live only for the duration of one fetch: the run keeps hashes and sizes.
 *
 * Memory: one small outcome per distinct location (~200 bytes), so a catalog with a million
 * distinct photo URLs holds ~200 MB while planning.
 */
export class ReferenceResolver {
  private readonly outcomes = new Map<string, Promise<ReferenceOutcome>>();
  private readonly limit: LimitFunction;
  private readonly policy: AddressPolicy;
  private readonly s3Stores = new Map<string, ObjectStore>();
  /** Locations actually fetched (not answered from memory): for the summary and tests. */
  fetched = 0;
  /** Fetched images decoded and normalised (not found by their bytes from an earlier run). */
  normalized = 0;

  constructor(private readonly deps: ReferenceResolverDeps) {
    this.limit = pLimit(deps.settings.concurrency);
    this.policy = { allowHosts: deps.settings.allowHosts, allowPrivate: deps.allowPrivate };
  }

  resolve(location: ReferenceLocation): Promise<ReferenceOutcome> {
    let outcome = this.outcomes.get(location.identity);
    if (!outcome) {
      outcome = this.limit(() => this.load(location)).then(
        (reference): ReferenceOutcome => ({ ok: true, reference }),
        (error: unknown): ReferenceOutcome => {
          if (isBunchError(error) && error.code === 'E_REFERENCE') return { ok: false, error };
          throw error;
        },
      );
      this.outcomes.set(location.identity, outcome);
    }
    return outcome;
  }

  async close(): Promise<void> {
    await Promise.all([...this.s3Stores.values()].map((store) => store.close().catch(() => undefined)));
    this.s3Stores.clear();
  }

  private async load(location: ReferenceLocation): Promise<StoredReference> {
    this.fetched += 1;
    const raw = await this.fetchWithRetries(location);
    // Tonight's photo is usually last night's: bytes already normalised with the same settings are
    // found by the hash of what was fetched, and cost one small read instead of a decode.
    const sourceKey = referenceSourceKey(createHash('sha256').update(raw).digest('hex'), normalizeSettings(this.deps.settings.longestSide));
    const known = await this.knownSource(sourceKey);
    if (known) return known;
    this.normalized += 1;
    let normalized;
    try {
      normalized = await normalizeReference(raw, { longestSide: this.deps.settings.longestSide });
    } catch (error) {
      if (isBunchError(error) && error.code === 'E_REFERENCE') {
        throw new BunchError('E_REFERENCE', `reference ${location.display}: ${error.message}`, { reason: error.reason, cause: error });
      }
      throw error;
    }
    const sha256 = createHash('sha256').update(normalized.bytes).digest('hex');
    const key = referenceObjectKey(sha256);
    // Storage trouble here is the run's problem (E_STORAGE), not the row's: it propagates.
    if (!this.deps.dryRun && !(await this.deps.store.head(key))) {
      await this.deps.store.put(key, normalized.bytes, { contentType: normalized.mimeType, metadata: { sha256 } });
    }
    const stored: StoredReference = { sha256, mimeType: normalized.mimeType, bytes: normalized.bytes.length, width: normalized.width, height: normalized.height };
    if (!this.deps.dryRun) await this.deps.store.put(sourceKey, JSON.stringify(stored), { contentType: 'application/json' });
    return stored;
  }

  /** The stored reference these exact fetched bytes were normalised to before, if it is still there. */
  private async knownSource(sourceKey: string): Promise<StoredReference | undefined> {
    const body = await this.deps.store.get(sourceKey);
    if (!body) return undefined;
    let known: Partial<StoredReference>;
    try {
      known = JSON.parse(body.toString('utf8')) as Partial<StoredReference>;
    } catch {
      return undefined;
    }
    const complete =
      typeof known.sha256 === 'string' && /^[0-9a-f]{64}$/.test(known.sha256) && typeof known.mimeType === 'string' &&
      typeof known.bytes === 'number' && typeof known.width === 'number' && typeof known.height === 'number';
    if (!complete) return undefined;
    const info = await this.deps.store.head(referenceObjectKey(known.sha256 as string));
    return info && info.size === known.bytes ? (known as StoredReference) : undefined;
  }

  /**
   * A location's outcome is remembered for every row that names it — one photo may serve
   * thousands of variant rows — so a passing failure (a reset connection, a 503 or 429 from a
   * CDN under the run's burst) is tried again before it is remembered: twice, after 0.5 s and
   * 2 s, or after what Retry-After asks (at most 10 s). Before, one blip rejected every row
   * sharing the photo for the whole run. Local files are not tried again.
   */
  private async fetchWithRetries(location: ReferenceLocation): Promise<Buffer> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.fetchBytes(location);
      } catch (error) {
        if (location.kind === 'file' || attempt >= FETCH_ATTEMPTS || !isPassingFailure(error)) throw error;
        const asked = (error as BunchError).retryAfterMs;
        await sleep(asked !== undefined ? Math.min(asked, MAX_RETRY_AFTER_MS) : (RETRY_DELAYS_MS[attempt - 1] ?? 2000));
      }
    }
  }

  private async fetchBytes(location: ReferenceLocation): Promise<Buffer> {
    const { limits } = this.deps.settings;
    switch (location.kind) {
      case 'http':
        return (await fetchHttpReference(location.url, { limits, policy: this.policy })).bytes;
      case 's3':
        return this.readS3(location.bucket, location.key, location.display);
      case 'file':
        return this.readFile(location.path, location.display);
    }
  }

  private async readS3(bucket: string, key: string, display: string): Promise<Buffer> {
    const { limits } = this.deps.settings;
    let store = this.s3Stores.get(bucket);
    if (!store) {
      store = this.deps.openStore(`s3://${bucket}`);
      this.s3Stores.set(bucket, store);
    }
    const deadline = Date.now() + limits.timeoutMs;
    let stream;
    const opening = store.getStream(key);
    try {
      stream = await withDeadline(opening, deadline, display);
    } catch (error) {
      // A stream that opens after the deadline is closed, not left holding a connection.
      opening.then((late) => late?.destroy(), () => undefined);
      if (isBunchError(error) && error.code === 'E_REFERENCE') throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new BunchError('E_REFERENCE', `reference ${display} could not be read: ${message}`, { reason: 'network', cause: error });
    }
    if (!stream) throw new BunchError('E_REFERENCE', `reference ${display} does not exist`, { reason: 'not-found' });
    return readLimited(stream, limits.maxBytes, deadline, display);
  }

  private async readFile(file: string, display: string): Promise<Buffer> {
    const { limits } = this.deps.settings;
    let handle;
    try {
      // The location was checked to lie inside the catalog's directory as written; a symbolic link
      // must not lead out of it either.
      const [real, base] = await Promise.all([realpath(file), realpath(this.deps.settings.baseDir)]);
      const inside = path.relative(base, real);
      if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
        throw new BunchError('E_REFERENCE', `reference ${display} leads outside the catalog's directory (symbolic link)`, { reason: 'bad-location' });
      }
      handle = await open(real, 'r');
    } catch (error) {
      if (isBunchError(error)) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' || code === 'EISDIR' ? 'not-found' : 'network';
      throw new BunchError('E_REFERENCE', `reference ${display} cannot be read (${code ?? 'error'})`, { reason, cause: error });
    }
    try {
      const info = await handle.stat();
      // A folder opens fine on Linux and fails only when read.
      if (!info.isFile()) throw new BunchError('E_REFERENCE', `reference ${display} is not a file (a folder?)`, { reason: 'bad-location' });
      const { size } = info;
      if (size > limits.maxBytes) {
        throw new BunchError('E_REFERENCE', `reference ${display} is ${size} bytes, over ${limits.maxBytes} (references.maxBytes)`, { reason: 'too-large' });
      }
      return await readLimited(handle.createReadStream({ autoClose: false }), limits.maxBytes, Date.now() + limits.timeoutMs, display);
    } finally {
      await handle.close().catch(() => undefined);
    }
  }
}

/** Tries of one location, and the waits between them (unless the server asks for another). */
const FETCH_ATTEMPTS = 3;
const RETRY_DELAYS_MS = [500, 2000];
const MAX_RETRY_AFTER_MS = 10_000;

/** A failure that may pass: the connection, or an HTTP answer that means "not now" (408, 429, 5xx). */
function isPassingFailure(error: unknown): boolean {
  if (!isBunchError(error) || error.code !== 'E_REFERENCE') return false;
  if (error.reason === 'network') return true;
  const status = error.status ?? 0;
  return error.reason === 'http-status' && (status === 408 || status === 429 || status >= 500);
}

function withDeadline<T>(promise: Promise<T>, deadline: number, display: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BunchError('E_REFERENCE', `reference ${display}: no answer from storage in time`, { reason: 'timeout' })),
      Math.max(0, deadline - Date.now()),
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
