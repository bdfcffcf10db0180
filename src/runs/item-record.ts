import type { ErrorCode } from '../errors/error-code.js';
import type { ItemReference } from '../references/item-reference.js';
import type { AttemptEntry } from './attempt-entry.js';

/** Terminal states. Every item of a run ends in exactly one of them (invariant 1). */
export type ItemStatus = 'succeeded' | 'failed' | 'skipped' | 'cancelled';
export const ITEM_STATUSES: readonly ItemStatus[] = ['succeeded', 'failed', 'skipped', 'cancelled'];

export type Lane = 'sync' | 'batch';

export interface StoredObjectRef {
  key: string;
  uri: string;
  sha256: string;
  bytes: number;
}

export interface CaptionRef extends StoredObjectRef {
  text: string;
  /** The structured caption (caption.schema), parsed and checked. */
  json?: unknown;
}

/** The manifest's view of a grounded answer (outputs/grounding-summary.ts makes it). */
export interface GroundingSummary {
  queries: string[];
  imageQueries?: string[];
  /** The first web sources, by order of appearance. */
  sources: { uri: string; title?: string }[];
  /** The first image sources (image search). */
  imageSources?: { uri: string; imageUri: string }[];
  sourceCount: number;
  /** The stored groundingMetadata. */
  key?: string;
  uri?: string;
}

/** One turn of a multi-turn edit (steps): its usage and cost; `resumed` when an earlier delivery made it. */
export interface StepRecord {
  turn: number;
  usage: { promptTokens: number; outputTokens: number; thoughtsTokens: number; totalTokens: number };
  costUsd: number;
  latencyMs?: number;
  resumed?: true;
  /** The turn's image, kept beside the output (output.keepSteps). */
  image?: ImageRef;
}

export interface ThoughtsRef {
  texts: number;
  images: number;
  keys?: string[];
}

export interface ImageRef extends StoredObjectRef {
  mimeType: string;
  width: number;
  height: number;
}

/**
 * The small per-item record kept in Redis until flushed to storage, and (with the manifest's
 * envelope fields) one manifest line. No image bytes, no base64, no secrets (invariant 3, 5).
 */
export interface ItemRecord {
  index: number;
  itemKey: string;
  key: string;
  variant: string;
  rowNumber: number;
  status: ItemStatus;
  lane: Lane;
  inputHash: string;
  model: string;
  /** The item's prompt (first turn) as rendered for its row, cut to 300 characters. */
  prompt?: string;
  image?: ImageRef;
  caption?: CaptionRef;
  /** Searches and sources of a grounded answer (the full metadata is stored at `grounding.key`). */
  grounding?: GroundingSummary;
  /** Thoughts the model returned (includeThoughts): counts, and where they were saved (debug.thoughts). */
  thoughts?: ThoughtsRef;
  /** Multi-turn edits: every turn, the last included. */
  steps?: StepRecord[];
  usage?: { promptTokens: number; outputTokens: number; thoughtsTokens: number; totalTokens: number };
  costUsd: number;
  attempts: number;
  latencyMs?: number;
  /** True when the output already existed in storage and no model call was made for this run. */
  reused?: boolean;
  /** With `reused`: the run whose call produced the outputs. */
  reusedFrom?: string;
  errorCode?: ErrorCode;
  errorMessage?: string;
  /** The HTTP status of the last call's answer, when it failed with one. */
  httpStatus?: number;
  finishReason?: string;
  /** Things worth a look that did not fail the item (an image of another size than asked for). */
  warnings?: string[];
  startedAt?: string;
  finishedAt: string;
  /** The worker process (host:pid) that made the record. */
  worker?: string;
  /** Every call and wait before the last one (bunch logs), when there were any; bounded. */
  history?: AttemptEntry[];
  /** The reference images sent with the request: source (no query string), sha256, size, role. */
  references?: ItemReference[];
}
