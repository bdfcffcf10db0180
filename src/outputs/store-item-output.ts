import { createHash } from 'node:crypto';
import { BunchError } from '../errors/bunch-error.js';
import { settleAll } from '../errors/settle-all.js';
import type { ParsedGenerateResponse } from '../gemini/parse-generate-response.js';
import { decodeImage } from '../image/decode-image.js';
import { fillExtension } from '../plan/item-identity.js';
import type { ItemRecord, Lane, StepRecord } from '../runs/item-record.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { ItemTarget } from '../plan/planned-item.js';
import { parseOutputMarker, type OutputMarker } from './output-marker.js';
import { parseStructuredCaption } from './caption-schema.js';
import { summarizeGrounding } from './grounding-summary.js';
import { itemFileKey } from './item-files.js';
import { forgetReplacedInputs } from './forget-replaced-inputs.js';
import { outputsAtPlannedKeys } from './outputs-at-planned-keys.js';

export interface StoreContext {
  runId: string;
  lane: Lane;
  wantImage: boolean;
  wantText: boolean;
  /** The job's caption.schema: the caption must be JSON matching it (checked before anything is stored). */
  captionSchema?: object;
  /** Save thought summaries and interim thought images under the item's folder (debug.thoughts). */
  saveThoughts?: boolean;
  /** Multi-turn edits: every turn's usage and cost (kept in the marker and the record). */
  steps?: StepRecord[];
  attempts: number;
  latencyMs?: number;
  costUsd: number;
  startedAt?: string;
}

/**
 * The one path from a model response to stored outputs, shared by the sync and batch lanes:
 * decode and validate the image, write image and caption, then write the marker last. The marker
 * is the commit point: if the process dies before it, the next delivery generates again (the
 * image/caption keys are deterministic, so that overwrites, never duplicates).
 */
export async function storeItemOutput(
  store: ObjectStore,
  target: ItemTarget,
  response: ParsedGenerateResponse,
  context: StoreContext,
): Promise<ItemRecord> {
  const metadata = { inputhash: target.inputHash, model: target.model, itemkey: encodeURIComponent(target.itemKey) };
  const text = response.text.trim();
  // A paid answer whose structured caption is unusable fails before anything is written.
  const structured = context.captionSchema && context.wantText ? parseStructuredCaption(text, context.captionSchema) : undefined;
  let image: OutputMarker['image'];
  const warnings: string[] = [];
  const part = response.images[0];
  // Image, caption and extras are written at once (each put ends in an fsync on a local disk);
  // only the marker waits for all of them.
  const writes: Promise<unknown>[] = [];
  let decoded: ReturnType<typeof decodeImage> | undefined;
  if (context.wantImage) {
    if (!part) throw new BunchError('E_NO_IMAGE', 'the response has no image part');
    decoded = decodeImage(part, target.expected);
  }
  const imageKey = decoded ? fillExtension(target.objectKey, decoded.ext) : undefined;
  const writesCaption = context.wantText && text.length > 0;
  await forgetReplacedInputs(store, target, [imageKey, writesCaption ? target.captionKey : undefined].filter((key): key is string => key !== undefined));
  if (decoded && imageKey) {
    if (decoded.sizeWarning) warnings.push(decoded.sizeWarning);
    const key = imageKey;
    writes.push(store.put(key, decoded.bytes, { contentType: decoded.mimeType, metadata }));
    image = {
      key,
      uri: store.uriFor(key),
      sha256: decoded.sha256,
      bytes: decoded.byteLength,
      mimeType: decoded.mimeType,
      width: decoded.width,
      height: decoded.height,
    };
  }
  let caption: OutputMarker['caption'];
  if (writesCaption) {
    const bytes = Buffer.from(text, 'utf8');
    const contentType = structured === undefined ? 'text/plain; charset=utf-8' : 'application/json';
    writes.push(store.put(target.captionKey, bytes, { contentType, metadata }));
    caption = {
      key: target.captionKey,
      uri: store.uriFor(target.captionKey),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
      text,
      ...(structured !== undefined ? { json: structured } : {}),
    };
  }
  const extrasWriting = storeAnswerExtras(store, target, response, context, metadata);
  writes.push(extrasWriting);
  // No write may still be running when the caller retries or gives up.
  await settleAll(writes);
  const extras = await extrasWriting;
  const finishedAt = new Date().toISOString();
  const marker: OutputMarker = {
    schemaVersion: 1,
    itemKey: target.itemKey,
    inputHash: target.inputHash,
    model: target.model,
    usage: response.usage,
    lane: context.lane,
    runId: context.runId,
    costUsd: context.costUsd,
    createdAt: finishedAt,
  };
  if (image) marker.image = image;
  if (caption) marker.caption = caption;
  if (response.finishReason) marker.finishReason = response.finishReason;
  if (warnings.length > 0) marker.warnings = warnings;
  Object.assign(marker, extras);
  if (context.steps) marker.steps = context.steps;
  await store.put(target.markerKey, JSON.stringify(marker), { contentType: 'application/json', metadata });

  const record = baseRecord(target, context.lane, 'succeeded', finishedAt);
  record.costUsd = context.costUsd;
  record.attempts = context.attempts;
  record.usage = response.usage;
  if (image) record.image = image;
  if (caption) record.caption = caption;
  if (response.finishReason) record.finishReason = response.finishReason;
  if (warnings.length > 0) record.warnings = warnings;
  Object.assign(record, extras);
  if (context.steps) record.steps = context.steps;
  if (context.latencyMs !== undefined) record.latencyMs = context.latencyMs;
  if (context.startedAt) record.startedAt = context.startedAt;
  return record;
}

/**
 * What an answer carries besides its outputs: grounding (summarised in the record, stored whole
 * beside the item) and thoughts (counted; saved only when the job asks). Thought images are
 * never outputs.
 */
async function storeAnswerExtras(
  store: ObjectStore,
  target: ItemTarget,
  response: ParsedGenerateResponse,
  context: StoreContext,
  metadata: Record<string, string>,
): Promise<Pick<OutputMarker, 'grounding' | 'thoughts'>> {
  const extras: Pick<OutputMarker, 'grounding' | 'thoughts'> = {};
  if (response.groundingMetadata) {
    const key = itemFileKey(target.markerKey, 'grounding.json');
    await store.put(key, JSON.stringify(response.groundingMetadata), { contentType: 'application/json', metadata });
    extras.grounding = { ...summarizeGrounding(response.groundingMetadata), key, uri: store.uriFor(key) };
  }
  const { texts, images } = response.thoughts;
  if (texts.length > 0 || images.length > 0) {
    extras.thoughts = { texts: texts.length, images: images.length };
    if (context.saveThoughts) {
      const keys: string[] = [];
      if (texts.length > 0) {
        const key = itemFileKey(target.markerKey, 'thoughts.txt');
        await store.put(key, Buffer.from(texts.join('\n\n'), 'utf8'), { contentType: 'text/plain; charset=utf-8', metadata });
        keys.push(key);
      }
      for (const [index, part] of images.entries()) {
        // Interim images are kept as sent; a broken one is a debug curiosity, not a failure.
        const bytes = part.bytes ?? Buffer.from(part.base64, 'base64');
        const ext = part.mimeType === 'image/jpeg' ? 'jpg' : part.mimeType === 'image/webp' ? 'webp' : 'png';
        const key = itemFileKey(target.markerKey, `thought-${index + 1}.${ext}`);
        await store.put(key, bytes, { contentType: part.mimeType, metadata });
        keys.push(key);
      }
      extras.thoughts.keys = keys;
    }
  }
  return extras;
}

/**
 * Reads the marker of an item whose outputs are already stored (by an earlier run, or an earlier
 * delivery of this job). Returns undefined when the item still has to be generated.
 */
export async function readStoredOutput(store: ObjectStore, target: ItemTarget): Promise<OutputMarker | undefined> {
  // On a local disk the usual answer ("not there") comes from one stat, without queueing behind
  // other items' fsyncs in the thread pool as a read would.
  if (store.existsSync && !store.existsSync(target.markerKey)) return undefined;
  const body = await store.get(target.markerKey);
  if (!body) return undefined;
  const marker = parseOutputMarker(body);
  return marker && marker.inputHash === target.inputHash && outputsAtPlannedKeys(marker, target) ? marker : undefined;
}

/**
 * A record for an item whose outputs were found in storage. Outputs from an earlier run were
 * paid for then (`reused`, cost 0 now); outputs this same run stored before a crash kept it from
 * recording them carry this run's cost and usage, so the run's total stays right.
 */
export function recordFromMarker(
  target: ItemTarget,
  marker: OutputMarker,
  status: 'succeeded' | 'skipped',
  lane: Lane,
  attempts: number,
  runId?: string,
): ItemRecord {
  const record = baseRecord(target, lane, status, new Date().toISOString());
  record.attempts = attempts;
  if (runId !== undefined && marker.runId === runId) {
    record.costUsd = marker.costUsd ?? 0;
    record.lane = marker.lane;
    if (marker.usage) record.usage = marker.usage;
  } else {
    record.reused = true;
    // The run that paid for these outputs (another run of the job, or an older one).
    record.reusedFrom = marker.runId;
  }
  if (marker.image) record.image = marker.image;
  if (marker.caption) record.caption = marker.caption;
  if (marker.finishReason) record.finishReason = marker.finishReason;
  if (marker.warnings?.length) record.warnings = [...marker.warnings];
  if (marker.grounding) record.grounding = marker.grounding;
  if (marker.thoughts) record.thoughts = marker.thoughts;
  if (marker.steps) record.steps = marker.steps;
  return record;
}

export function baseRecord(target: ItemTarget, lane: Lane, status: ItemRecord['status'], finishedAt: string): ItemRecord {
  return {
    index: target.index,
    itemKey: target.itemKey,
    key: target.rowKey,
    variant: target.variant,
    rowNumber: target.rowNumber,
    status,
    lane,
    inputHash: target.inputHash,
    model: target.model,
    costUsd: 0,
    attempts: 0,
    finishedAt,
    ...(target.prompt !== undefined ? { prompt: target.prompt } : {}),
    ...(target.references?.length ? { references: target.references.map((reference) => ({ ...reference })) } : {}),
  };
}
