import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { readLimited } from '../../../src/references/read-limited.js';
import { DEFAULT_REFERENCE_FETCH_LIMITS } from '../../../src/references/reference-fetch-options.js';
import { parseReferenceLocation, type ReferenceLocation } from '../../../src/references/reference-location.js';
import { ReferenceResolver, type ReferenceOutcome } from '../../../src/references/reference-resolver.js';
import type { ResolvedReferences } from '../../../src/references/resolved-references.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { solidImage } from '../../helpers/image-server.js';
import { runCli } from '../../helpers/run-cli.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

/**
 * A reference that cannot be read rejects its row, never the run; and a failure that may pass
 * (a reset connection, 503, 429) is tried again before it is remembered for every row that names
 * the same photo. Before: a folder named as a photo ended the run `E_INTERNAL` (EISDIR), a body
 * cut mid-way threw out of planning, and one 503 from a CDN rejected every row sharing the photo.
 */
let dir: TempDir;
let store: ObjectStore;
beforeEach(async () => {
  dir = await tempDir('reference-read-failures');
  store = openObjectStore(`file://${path.join(dir.path, 'out')}`);
});
afterEach(async () => {
  await store.close();
  await dir.remove();
});

function resolverFor(allowPrivate: boolean): ReferenceResolver {
  const settings: ResolvedReferences = {
    sources: [{ column: 'photo', template: undefined, role: 'object', scope: 'row' }],
    limits: DEFAULT_REFERENCE_FETCH_LIMITS,
    longestSide: 64,
    concurrency: 8,
    allowHosts: [],
    baseDir: dir.path,
  };
  return new ReferenceResolver({ settings, store, openStore: () => store, allowPrivate });
}

describe('a reference that cannot be read', () => {
  it('a catalog cell naming a folder is the row’s E_REFERENCE', async () => {
    await mkdir(path.join(dir.path, 'photos', 'red'), { recursive: true });
    const location = parseReferenceLocation('photos/red', dir.path) as ReferenceLocation;
    const outcome = await resolverFor(false).resolve(location);
    expect(outcome.ok).toBe(false);
    const error = (outcome as Extract<ReferenceOutcome, { ok: false }>).error;
    expect([error.code, error.reason, error.message]).toEqual(['E_REFERENCE', 'bad-location', 'reference photos/red is not a file (a folder?)']);
  });

  it('bunch run --dry-run rejects the row naming a folder and plans the rest', async () => {
    await mkdir(path.join(dir.path, 'photos', 'B'), { recursive: true });
    await writeFile(path.join(dir.path, 'photos', 'a.png'), await solidImage({ r: 10, g: 200, b: 10 }));
    await writeFile(path.join(dir.path, 'c.csv'), 'sku,title,photo\nA,Lamp,photos/a.png\nB,Vase,photos/B\n');
    const jobFile = path.join(dir.path, 'job.yaml');
    await writeFile(
      jobFile,
      ['name: refs-dir', 'catalog: { path: c.csv, key: sku }', 'model: gemini-3.1-flash-image-preview', 'prompt: "Photo of {{title}}"', 'references: [photo]', 'output: { url: "file://out" }'].join('\n'),
    );
    // Before: exit 3, `bunch: E_INTERNAL: EISDIR: illegal operation on a directory, read`.
    const result = await runCli(['run', jobFile, '--dry-run', '--json']);
    expect([result.code, result.stderr]).toEqual([0, '']);
    const preview = JSON.parse(result.stdout) as { items: number; rejectedRows: number; rejections: { code: string; line: number; field: string }[] };
    expect(preview).toMatchObject({ items: 1, rejectedRows: 1 });
    expect(preview.rejections[0]).toMatchObject({ code: 'E_REFERENCE', line: 3, field: 'photo' });
  });

  it('a body that breaks off mid-way is E_REFERENCE `network`, not a raw stream error', async () => {
    const body = new PassThrough();
    body.write(Buffer.from([0xff, 0xd8, 0xff, 0xe0]));
    setTimeout(() => body.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), 20);
    const failure = await readLimited(body, 1024 * 1024, Date.now() + 5000, 's3://photos/p/1.jpg').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BunchError);
    expect([(failure as BunchError).code, (failure as BunchError).reason, (failure as BunchError).message]).toEqual([
      'E_REFERENCE',
      'network',
      'reference s3://photos/p/1.jpg could not be read: socket hang up',
    ]);
  });
});

describe('a photo shared by many rows, on a server that fails', () => {
  let server: Server;
  let url: string;
  let hits = 0;
  /** What the server answers to the n-th request (1-based); after them, the photo. */
  let failures: ('503' | '429' | 'reset' | '404')[] = [];
  beforeEach(async () => {
    const png = await solidImage({ r: 1, g: 99, b: 1 });
    hits = 0;
    server = createServer((request, response) => {
      hits += 1;
      const failure = failures[hits - 1];
      if (failure === 'reset') return void request.socket.destroy();
      if (failure) {
        response.writeHead(Number(failure), failure === '429' ? { 'retry-after': '1' } : {});
        return void response.end();
      }
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
      response.end(png);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/p/shared.png`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const resolveMany = async (rows: number): Promise<number> => {
    const resolver = resolverFor(true);
    const location = parseReferenceLocation(url, dir.path) as ReferenceLocation;
    const outcomes = await Promise.all(Array.from({ length: rows }, () => resolver.resolve(location)));
    return outcomes.filter((outcome) => !outcome.ok).length;
  };

  for (const blip of ['503', '429', 'reset'] as const) {
    it(`one ${blip} is tried again: none of the 500 rows sharing the photo is rejected`, async () => {
      failures = [blip];
      // Before: { rejected: 500, hits: 1 }.
      expect({ rejected: await resolveMany(500), hits }).toEqual({ rejected: 0, hits: 2 });
    });
  }

  it('a server still failing after three tries rejects the rows, after three requests in all', async () => {
    failures = ['503', '503', '503', '503'];
    expect({ rejected: await resolveMany(50), hits }).toEqual({ rejected: 50, hits: 3 });
  });

  it('a 404 is not tried again', async () => {
    failures = ['404'];
    expect({ rejected: await resolveMany(50), hits }).toEqual({ rejected: 50, hits: 1 });
  });
});
