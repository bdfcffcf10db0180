import { createHash } from 'node:crypto';
import { symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_REFERENCE_FETCH_LIMITS } from '../../../src/references/reference-fetch-options.js';
import { parseReferenceLocation, type ReferenceLocation } from '../../../src/references/reference-location.js';
import { referenceObjectKey } from '../../../src/references/reference-object-key.js';
import { ReferenceResolver } from '../../../src/references/reference-resolver.js';
import type { ResolvedReferences } from '../../../src/references/resolved-references.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { solidImage } from '../../helpers/image-server.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

describe('ReferenceResolver against a local directory store', () => {
  let dir: TempDir;
  let store: ObjectStore;
  beforeEach(async () => {
    dir = await tempDir('resolver');
    store = openObjectStore(`file://${path.join(dir.path, 'out')}`);
  });
  afterEach(async () => {
    await store.close();
    await dir.remove();
  });

  const settings = (): ResolvedReferences => ({
    sources: [{ column: 'photo', template: undefined, role: 'object', scope: 'row' }],
    limits: DEFAULT_REFERENCE_FETCH_LIMITS,
    longestSide: 32,
    concurrency: 2,
    allowHosts: [],
    baseDir: dir.path,
  });
  const resolver = (options: { dryRun?: boolean } = {}) =>
    new ReferenceResolver({ settings: settings(), store, openStore: () => store, allowPrivate: false, ...options });
  const location = (name: string) => parseReferenceLocation(name, dir.path) as ReferenceLocation;

  it('normalises a photo once; the next run finds it by its bytes without decoding it again', async () => {
    await writeFile(path.join(dir.path, 'a.png'), await solidImage({ r: 1, g: 2, b: 3 }, { width: 64, height: 48 }));
    const first = resolver();
    const outcome = await first.resolve(location('a.png'));
    expect(outcome).toMatchObject({ ok: true, reference: { mimeType: 'image/png', width: 32, height: 24 } });
    expect([first.fetched, first.normalized]).toEqual([1, 1]);
    const sha = outcome.ok ? outcome.reference.sha256 : '';
    expect(createHash('sha256').update((await store.get(referenceObjectKey(sha)))!).digest('hex')).toBe(sha);

    const second = resolver();
    expect(await second.resolve(location('a.png'))).toEqual(outcome);
    expect([second.fetched, second.normalized]).toEqual([1, 0]);

    // The stored image gone (a cleaned bucket): it is normalised and stored again.
    await store.delete(referenceObjectKey(sha));
    const third = resolver();
    expect(await third.resolve(location('a.png'))).toEqual(outcome);
    expect(third.normalized).toBe(1);
    expect(await store.head(referenceObjectKey(sha))).toBeDefined();
  });

  it('asks once per location within a run, failures included', async () => {
    await writeFile(path.join(dir.path, 'bad.png'), 'not an image');
    const run = resolver();
    const [a, b] = await Promise.all([run.resolve(location('bad.png')), run.resolve(location('bad.png'))]);
    expect(a).toBe(b);
    expect(a).toMatchObject({ ok: false, error: { code: 'E_REFERENCE', reason: 'unsupported-type' } });
    expect(run.fetched).toBe(1);
    expect(await run.resolve(location('missing.png'))).toMatchObject({
      ok: false,
      error: { code: 'E_REFERENCE', reason: 'not-found', message: 'reference missing.png cannot be read (ENOENT)' },
    });
  });

  it('writes nothing in a dry run', async () => {
    await writeFile(path.join(dir.path, 'a.png'), await solidImage({ r: 9, g: 9, b: 9 }));
    const outcome = await resolver({ dryRun: true }).resolve(location('a.png'));
    expect(outcome.ok).toBe(true);
    const keys: string[] = [];
    for await (const key of store.list('_bunch/')) keys.push(key);
    expect(keys).toEqual([]);
  });

  it('refuses a symbolic link that leads out of the catalog directory', async () => {
    const outside = await tempDir('outside');
    try {
      await writeFile(path.join(outside.path, 'secret.png'), await solidImage({ r: 1, g: 1, b: 1 }));
      await symlink(path.join(outside.path, 'secret.png'), path.join(dir.path, 'link.png'));
      expect(await resolver().resolve(location('link.png'))).toMatchObject({
        ok: false,
        error: { code: 'E_REFERENCE', reason: 'bad-location', message: "reference link.png leads outside the catalog's directory (symbolic link)" },
      });
    } finally {
      await outside.remove();
    }
  });
});
