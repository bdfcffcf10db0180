import type { ManifestLine } from '../manifest/manifest-line.js';
import { linkFromGallery } from './gallery-keys.js';

/**
 * One tile of the gallery, as the page's data carries it: what a reviewer reads on the tile and in
 * its detail panel. Texts are cut (the manifest has them whole); nothing here is a secret (the
 * manifest holds none) and reference sources are shown as text, never loaded by the page.
 */
export interface GalleryTile {
  /** Item index (rejected rows: -1). */
  index: number;
  key: string;
  variant: string;
  status: string;
  rowNumber: number;
  model?: string;
  lane?: string;
  prompt?: string;
  costUsd: number;
  attempts: number;
  caption?: string;
  errorCode?: string;
  errorMessage?: string;
  finishReason?: string;
  warnings?: string[];
  /** Relative to the gallery folder; absent when there is no image (or no thumbnail could be made). */
  thumb?: string;
  /** Relative link to the full image. */
  image?: string;
  width?: number;
  height?: number;
  reused?: boolean;
  references?: { source: string; role?: string }[];
  steps?: number;
  grounding?: string[];
}

const TEXT_LIMIT = 400;

function cut(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  return text.length <= TEXT_LIMIT ? text : `${text.slice(0, TEXT_LIMIT)}…`;
}

export function tileOf(line: ManifestLine): GalleryTile {
  if (line.status === 'rejected') {
    return {
      index: -1,
      key: line.key ?? `row ${line.rowNumber}`,
      variant: '',
      status: 'rejected',
      rowNumber: line.rowNumber,
      costUsd: 0,
      attempts: 0,
      errorCode: line.errorCode,
      errorMessage: cut(`${line.file}:${line.line}${line.field ? ` field ${line.field}` : ''}: ${line.errorMessage}`)!,
    };
  }
  const tile: GalleryTile = {
    index: line.index,
    key: line.key,
    variant: line.variant,
    status: line.status,
    rowNumber: line.rowNumber,
    model: line.model,
    lane: line.lane,
    costUsd: line.costUsd,
    attempts: line.attempts,
  };
  if (line.prompt) tile.prompt = line.prompt;
  const caption = line.caption?.json !== undefined ? JSON.stringify(line.caption.json) : line.caption?.text;
  if (caption) tile.caption = cut(caption)!;
  if (line.errorCode) tile.errorCode = line.errorCode;
  if (line.errorMessage) tile.errorMessage = cut(line.errorMessage)!;
  if (line.finishReason) tile.finishReason = line.finishReason;
  if (line.warnings?.length) tile.warnings = line.warnings.map((warning) => cut(warning)!);
  if (line.image) {
    tile.image = linkFromGallery(line.image.key);
    tile.width = line.image.width;
    tile.height = line.image.height;
  }
  if (line.reused) tile.reused = true;
  if (line.references?.length) {
    tile.references = line.references.map((reference) => ({ source: cut(reference.source)!, role: reference.role }));
  }
  if (line.steps?.length) tile.steps = line.steps.length;
  if (line.grounding?.queries.length) tile.grounding = line.grounding.queries;
  return tile;
}
