import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { planPreview } from '../../../src/cli/plan-preview.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
import { storedIndexPointerKey } from '../../../src/outputs/stored-index-pointer.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { meanColor, solidImage, startImageServer, type ImageServer } from '../../helpers/image-server.js';

const items = (manifest: ManifestLine[]) => manifest.filter((line): line is ManifestItemLine => line.status !== 'rejected');

describe('hero → variants on the sync lane', () => {
  let stack: BunchStack;
  let photos: ImageServer;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 4 });
    await stack.startWorkers();
    photos = await startImageServer();
  });
  afterAll(async () => {
    await photos?.close();
    await stack?.stop();
  });

  const variants = [
    { name: 'main', prompt: 'Hero shot of {{title}} {{heroNote}}' },
    { name: 'story', from: 'main', aspectRatio: '9:16', prompt: 'The same scene as a 9:16 story' },
    { name: 'banner', from: 'main', aspectRatio: '4:1', prompt: 'The same scene as a 4:1 banner' },
  ];

  it('makes the variants from the stored hero; a failed hero fails its variants with E_DEPENDENCY and no call', async () => {
    photos.serve('/green.png', await solidImage({ r: 20, g: 210, b: 20 }));
    const csv = [
      'sku,title,heroNote,photo',
      `H1,Teapot,studio,${photos.namedUrl}/green.png`,
      'H2,Kettle,[[emu:image-safety]],',
      'H3,Cup,studio,',
    ].join('\n');
    const jobFile = await stack.writeJob({
      catalogCsv: csv,
      job: { variants, references: { sources: ['photo'], allowHosts: ['localhost'] } },
    });
    const started = await stack.start(jobFile);
    expect(started).toMatchObject({ items: 9, rejected: 0 });
    const meta = await stack.waitForRun(started.runId);
    expect(meta.counts).toEqual({ succeeded: 6, failed: 3, skipped: 0, cancelled: 0 });

    const store = stack.storeFor(started.outputUrl);
    const manifest = items(await stack.readManifest(store, started.runId));
    const line = (key: string, variant: string) => manifest.find((entry) => entry.key === key && entry.variant === variant) as ManifestItemLine;
    expect(line('H2', 'main')).toMatchObject({ status: 'failed', errorCode: 'E_SAFETY_BLOCKED' });
    for (const variant of ['story', 'banner']) {
      expect(line('H2', variant)).toMatchObject({ status: 'failed', errorCode: 'E_DEPENDENCY', costUsd: 0, attempts: 0 });
      expect(line('H2', variant).errorMessage).toBe('it is made from variant "main" of this row, which did not succeed');
    }
    // Calls: 3 heroes (one refused) + 2 × 2 variants; none for H2's variants.
    expect(stack.emulator.requestLog.count({ route: 'generateContent' })).toBe(7);

    // The story and banner carry the hero image first, then the row's own photo; their hash covers the hero's bytes.
    const hero = line('H1', 'main');
    const story = line('H1', 'story');
    expect(story.status).toBe('succeeded');
    expect(story.references?.map((reference) => [reference.source, reference.sha256])).toEqual([
      ['variant:main', hero.image!.sha256],
      [`${photos.namedUrl}/green.png`, hero.references![0]!.sha256],
    ]);
    expect([story.image!.width, story.image!.height]).toEqual([384, 688]);
    expect(story.image!.key).toBe(`H1/story-${story.inputHash.slice(0, 12)}.png`);
    expect([line('H1', 'banner').image!.width, line('H1', 'banner').image!.height]).toEqual([1024, 256]);
    // Image-to-image from the hero, which was image-to-image from the green product photo.
    const color = await meanColor((await store.get(story.image!.key))!);
    expect(color.g).toBeGreaterThan(color.r + 40);
  });

  it('a re-run skips everything; a regenerated hero regenerates its variants', async () => {
    const csv = ['sku,title,heroNote', 'R1,Bowl,studio', 'R2,Plate,studio'].join('\n');
    const jobFile = await stack.writeJob({ catalogCsv: csv, job: { variants } });
    const first = await stack.start(jobFile);
    expect((await stack.waitForRun(first.runId)).counts).toMatchObject({ succeeded: 6 });

    // The dry run sees the variants as stored too (their identity includes the stored hero's image).
    expect(await planPreview(await loadJobFile(jobFile), stack.storeFor)).toMatchObject({ items: 6, alreadyStored: 6, toGenerate: 0 });

    const again = await stack.start(jobFile);
    expect(again).toMatchObject({ items: 6, enqueued: 0, skipped: 6 });
    expect((await stack.waitForRun(again.runId)).counts).toEqual({ succeeded: 0, failed: 0, skipped: 6, cancelled: 0 });

    // A changed hero prompt for R2 only: its hero and both its variants are made again.
    const changed = ['sku,title,heroNote', 'R1,Bowl,studio', 'R2,Plate,outdoors'].join('\n');
    const third = await stack.start(await stack.writeJob({ catalogCsv: changed, job: { variants, output: { url: `file://${stack.dir.path}/out` } } }));
    const meta = await stack.waitForRun(third.runId);
    expect(meta.counts).toEqual({ succeeded: 3, failed: 0, skipped: 3, cancelled: 0 });
    const manifest = items(await stack.readManifest(stack.storeFor(third.outputUrl), third.runId));
    expect(manifest.filter((entry) => entry.status === 'succeeded').map((entry) => `${entry.key}#${entry.variant}`).sort()).toEqual([
      'R2#banner',
      'R2#main',
      'R2#story',
    ]);
  });

  /** A first night of two rows × three variants, then D1's hero image removed (a lifecycle rule, an operator); its marker stays. */
  async function storedHeroWithImageDeleted(folder: string) {
    const csv = ['sku,title,heroNote', 'D1,Jug,studio', 'D2,Mug,studio'].join('\n');
    const jobFile = await stack.writeJob({ catalogCsv: csv, job: { variants, output: { url: `file://${stack.dir.path}/${folder}` } } });
    const first = await stack.start(jobFile);
    expect((await stack.waitForRun(first.runId)).counts).toMatchObject({ succeeded: 6 });
    const store = stack.storeFor(first.outputUrl);
    const hero = items(await stack.readManifest(store, first.runId)).find((line) => line.itemKey === 'D1#main')!;
    await store.delete(hero.image!.key);
    await store.delete(`_bunch/refs/${hero.image!.sha256}`);
    return { jobFile, first, store, hero };
  }

  it('a stored hero whose image was deleted is made again when the stored-output index names it; its variants are then found stored', async () => {
    const { jobFile, store, hero } = await storedHeroWithImageDeleted('out-regenerated');

    const again = await stack.start(jobFile);
    const meta = await stack.waitForRun(again.runId);
    expect(meta.counts).toEqual({ succeeded: 1, failed: 0, skipped: 5, cancelled: 0 });
    const lines = items(await stack.readManifest(store, again.runId));
    expect(lines.filter((line) => line.status === 'succeeded').map((line) => line.itemKey)).toEqual(['D1#main']);
    // The emulator draws the same image for the same prompt: the variants' identity is unchanged.
    expect(lines.find((line) => line.itemKey === 'D1#main')!.image!.sha256).toBe(hero.image!.sha256);
    expect(await store.head(hero.image!.key)).toBeDefined();
  });

  it('a stored hero whose image was deleted is made again without a stored-output index too (its marker is checked against its outputs)', async () => {
    // No index tells planning what should be stored (outputs of a version before the index, say).
    const { jobFile, first, store, hero } = await storedHeroWithImageDeleted('out-deleted');
    const jobName = (await stack.plane.runs.getMeta(first.runId))!.config.jobName;
    expect(await store.head(storedIndexPointerKey(jobName))).toBeDefined();
    await store.delete(storedIndexPointerKey(jobName));

    const again = await stack.start(jobFile);
    const meta = await stack.waitForRun(again.runId);
    // Before: the hero skipped on its marker alone, its variants failed E_DEPENDENCY (0 / 2 / 4).
    expect(meta.counts).toEqual({ succeeded: 1, failed: 0, skipped: 5, cancelled: 0 });
    const lines = items(await stack.readManifest(store, again.runId));
    expect(lines.filter((line) => line.status === 'succeeded').map((line) => line.itemKey)).toEqual(['D1#main']);
    expect(await store.head(hero.image!.key)).toBeDefined();
  });

  it('a stored hero whose image was altered fails its variants with E_DEPENDENCY instead of stopping the run', async () => {
    const { jobFile, store, hero } = await storedHeroWithImageDeleted('out-altered');
    // Other bytes under the hero's key, still labelled with its input: only the marker's hash tells.
    await store.put(hero.image!.key, Buffer.from('not the image its marker names'), { contentType: 'image/png', metadata: { inputhash: hero.inputHash } });

    const again = await stack.start(jobFile);
    const meta = await stack.waitForRun(again.runId);
    expect(meta.counts).toEqual({ succeeded: 0, failed: 2, skipped: 4, cancelled: 0 });
    const failed = items(await stack.readManifest(store, again.runId)).filter((line) => line.status === 'failed');
    expect(failed.map((line) => [line.itemKey, line.errorCode, line.errorMessage]).sort()).toEqual(
      ['D1#banner', 'D1#story'].map((itemKey) => [
        itemKey,
        'E_DEPENDENCY',
        `it is made from variant "main" of this row, whose stored image ${hero.image!.key} no longer matches the hash its marker recorded`,
      ]),
    );
  });
});

