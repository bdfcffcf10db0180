/**
 * An item's identity and the keys derived from it: the inputHash over everything that decides the
 * output, the marker key that says "made and stored", and the placeholders planned object keys
 * keep until a worker knows the image's type (`{{ext}}`) or a dependant its hero (`{{hash}}`).
 */
import { hash } from 'node:crypto';
import type { GenerateContentRequest } from '../gemini/generate-content-request.js';
import { BunchError } from '../errors/bunch-error.js';
import { RESERVED_KEY_PREFIX } from '../storage/reserved-key-prefix.js';
import { canonicalJson } from './canonical-json.js';

/**
 * The identity of a piece of paid work: hex sha256 of the canonical JSON of `{model, request}`.
 * Anything that can change the output (prompt, system text, model, generation config) is inside
 * the request, so an unchanged hash plus an existing output means there is nothing to pay for.
 */
export function computeInputHash(model: string, request: GenerateContentRequest, steps?: readonly string[]): string {
  // Edit steps join the identity only when there are some: single-turn hashes stay as they were.
  return sha256Hex(canonicalJson(steps?.length ? { model, request, steps } : { model, request }));
}

/** One-shot hash: no Hash object per call (a third to a half of the cost for the short texts planning hashes). */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

export const RESULT_MARKER_PREFIX = `${RESERVED_KEY_PREFIX}results/`;

/**
 * The deterministic "done" record of one item: unique per (itemKey, inputHash), so a re-delivered
 * job or a later run finds it with one HEAD and does not pay twice. Fanned out by the first two
 * hex digits of the hash to keep listings of one prefix small.
 */
export function markerKey(itemKey: string, inputHash: string): string {
  return `${RESULT_MARKER_PREFIX}${inputHash.slice(0, 2)}/${inputHash}-${sha256Hex(itemKey).slice(0, 16)}.json`;
}

/** The placeholder planned object keys keep until the worker knows the image's real type. */
export const EXTENSION_PLACEHOLDER = '{{ext}}';

/** Replaces `{{ext}}` in a planned object key, e.g. with `png` once the image bytes are known. */
export function fillExtension(objectKey: string, ext: string): string {
  if (!/^[a-z0-9]{1,8}$/.test(ext)) {
    throw new BunchError('E_INTERNAL', `invalid file extension ${JSON.stringify(ext)}`);
  }
  return objectKey.replaceAll(EXTENSION_PLACEHOLDER, ext);
}

/**
 * Where `output.keepSteps` keeps the image of edit turn `turn` (before the last) of the item whose
 * planned key is `objectKey`: `<key>~step1.png` beside `<key>.png`. The `~` is what keeps it from
 * any other item's key: catalog values never put one in a key (safeKeySegment writes `%7E`), while
 * a `.` would (a row keyed `shoe.step1` has the key `shoe.step1.png`, the kept step of row `shoe`
 * would have had it too, and one overwrote the other).
 */
export function keptStepKey(objectKey: string, turn: number): string {
  const dotted = `.${EXTENSION_PLACEHOLDER}`;
  if (objectKey.includes(dotted)) return objectKey.replaceAll(dotted, `~step${turn}${dotted}`);
  return objectKey.replaceAll(EXTENSION_PLACEHOLDER, `~step${turn}.${EXTENSION_PLACEHOLDER}`);
}

/**
 * The placeholder a dependant variant's keys keep until its hero's image, and so its own
 * inputHash, is known (see complete-dependant.ts).
 */
export const HASH_PLACEHOLDER = '{{hash}}';

export function fillHash(objectKey: string, inputHash: string): string {
  if (!/^[0-9a-f]{64}$/.test(inputHash)) throw new BunchError('E_INTERNAL', 'invalid inputHash');
  return objectKey.replaceAll(HASH_PLACEHOLDER, inputHash.slice(0, 12));
}
