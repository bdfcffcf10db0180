import { createInterface } from 'node:readline';
import pLimit from 'p-limit';
import type { ManifestLine } from '../manifest/manifest-line.js';
import type { RunSummary } from '../manifest/run-summary.js';
import { runObjectKeys } from '../runs/run-keys.js';
import type { ObjectStore } from '../storage/object-store.js';
import { BunchError } from '../errors/bunch-error.js';
import { GALLERY_PAGE_SIZE, galleryKeys } from './gallery-keys.js';
import { galleryHtml } from './gallery-page.js';
import { tileOf, type GalleryTile } from './gallery-tile.js';
import { makeThumbnail } from './make-thumbnail.js';

/**
 * Writes a run's gallery next to its manifest (gallery-keys.ts), reading the manifest as a
 * stream: a page of tiles at a time has its thumbnails made (a few at once, each streamed from
 * storage) and is written out before the next is read, so memory stays flat however large the
 * run. The index goes last, with the counts and the filter values; until then an older gallery
 * (or none) is what a reader sees.
 */
export interface WriteGalleryOptions {
  /** Thumbnails made at once (each holds one image being decoded). */
  concurrency?: number;
}

export interface GalleryResult {
  key: string;
  uri: string;
  items: number;
  thumbnails: number;
  /** Tiles with an image whose thumbnail could not be made (gone, or not an image). */
  missing: number;
}

const THUMB_STATUSES = new Set(['succeeded', 'skipped']);

export async function writeGallery(store: ObjectStore, runId: string, options: WriteGalleryOptions = {}): Promise<GalleryResult> {
  const objects = runObjectKeys(runId);
  const keys = galleryKeys(runId);
  const summaryBody = await store.get(objects.summary);
  const manifest = await store.getStream(objects.manifest);
  if (!summaryBody || !manifest) {
    manifest?.destroy();
    throw new BunchError('E_NOT_FOUND', `run ${runId} has no manifest in ${store.url} yet; a gallery is made once the run is finalized`);
  }
  const summary = JSON.parse(summaryBody.toString('utf8')) as RunSummary;
  const limit = pLimit(options.concurrency ?? 4);
  const variants = new Set<string>();
  const errorCodes = new Set<string>();
  const counts: Record<string, number> = {};
  let pending: Promise<GalleryTile>[] = [];
  let pages = 0;
  let items = 0;
  let thumbnails = 0;
  let missing = 0;

  const thumbnailed = async (tile: GalleryTile, imageKey: string | undefined): Promise<GalleryTile> => {
    if (imageKey === undefined || !THUMB_STATUSES.has(tile.status)) return tile;
    const thumb = await makeThumbnail(store, imageKey);
    if (!thumb) {
      missing += 1;
      return { ...tile, errorMessage: tile.errorMessage ?? 'the output image could not be read for a thumbnail' };
    }
    const key = keys.thumb(tile.index);
    await store.put(`${keys.folder}/${key}`, thumb, { contentType: 'image/webp' });
    thumbnails += 1;
    return { ...tile, thumb: key };
  };
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const tiles = await Promise.all(pending);
    pending = [];
    pages += 1;
    const body = `window.bunchGallery.add(${pages}, ${JSON.stringify(tiles).replace(/</g, '\\u003c')});\n`;
    await store.put(`${keys.folder}/${keys.dataPage(pages)}`, body, { contentType: 'text/javascript; charset=utf-8' });
  };

  const lines = createInterface({ input: manifest, crlfDelay: Infinity });
  try {
    for await (const text of lines) {
      if (text.trim() === '') continue;
      const line = JSON.parse(text) as ManifestLine;
      const tile = tileOf(line);
      items += 1;
      counts[tile.status] = (counts[tile.status] ?? 0) + 1;
      if (tile.variant) variants.add(tile.variant);
      if (tile.errorCode) errorCodes.add(tile.errorCode);
      const imageKey = line.status === 'rejected' ? undefined : line.image?.key;
      pending.push(limit(() => thumbnailed(tile, imageKey)));
      if (pending.length >= GALLERY_PAGE_SIZE) await flush();
    }
    await flush();
  } finally {
    lines.close();
    manifest.destroy();
  }

  const html = galleryHtml({
    runId,
    jobName: summary.jobName,
    status: summary.status,
    pages,
    total: items,
    counts,
    costUsd: summary.costUsd,
    variants: [...variants].sort(),
    errorCodes: [...errorCodes].sort(),
    generatedAt: new Date().toISOString(),
  });
  await store.put(keys.index, html, { contentType: 'text/html; charset=utf-8' });
  return { key: keys.index, uri: store.uriFor(keys.index), items, thumbnails, missing };
}
