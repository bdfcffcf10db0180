import type { RowRejection } from '../catalog/catalog-event.js';
import type { ItemReference } from '../references/item-reference.js';
import type { GenerateContentRequest } from '../gemini/generate-content-request.js';

/** One unit of paid work: a catalog row × a variant, with everything a lane needs to run it. */
export interface PlannedItem {
  /** 0, 1, 2, ... in catalog order; rejections take no index. */
  index: number;
  /** `${rowKey}#${variant}` */
  itemKey: string;
  rowKey: string;
  variant: string;
  rowNumber: number;
  model: string;
  /** camelCase JSON exactly as sent to generateContent (and inside a Batch API line). */
  request: GenerateContentRequest;
  /** Hex sha256 of the canonical JSON of `{model, request}`. */
  inputHash: string;
  /** The rendered prompt (first turn), cut to PROMPT_SHOWN_CHARS: for the manifest and the gallery, not the request. */
  prompt?: string;
  /** Pixel size the model should return for this variant. */
  expected: { width: number; height: number };
  /** Image object key, relative to the output location, with a literal `{{ext}}` for the worker to fill. */
  objectKey: string;
  /** Caption object key (`{{ext}}` = `txt`). */
  captionKey: string;
  /** Deterministic "done" record under `_bunch/results/`, unique per (itemKey, inputHash). */
  markerKey: string;
  /**
   * Edit turns after the first prompt (multi-turn), rendered for this row. Each turn sends the
   * whole conversation so far; the last turn's image is the output. Part of the inputHash.
   */
  steps?: string[];
  /**
   * With steps, on the batch lane: the turn this shard line asks for (1 = the first prompt; each
   * later turn is a wave of its own, see next-turn-shards.ts). Absent means 1.
   */
  turn?: number;
  /** Reference images sent with the request (stored under `_bunch/refs/`); absent when there are none. */
  references?: ItemReference[];
  /**
   * Set on a variant made from another variant's output of the same row (`from:`). Until its hero
   * is stored the item is a draft: request without the hero image, keys with a `{{hash}}`
   * placeholder; completeDependant finishes it. `heroSha256` is set once it is complete.
   */
  from?: { variant: string; itemKey: string; heroSha256?: string };
}

export type PlanEvent = { kind: 'item'; item: PlannedItem } | { kind: 'rejected'; rejection: RowRejection };

/**
 * Everything a lane needs to execute and store one item, minus the request body: what planning
 * computed, travelling in a BullMQ job or a batch shard's targets file.
 */
export type ItemTarget = Omit<PlannedItem, 'request'>;

/** How much of an item's prompt its target, record and manifest line carry (the request has it whole). */
export const PROMPT_SHOWN_CHARS = 300;
