import { createHash } from 'node:crypto';
import { BunchError } from '../errors/bunch-error.js';
import type { ParsedGenerateResponse } from '../gemini/parse-generate-response.js';
import { decodeImage } from '../image/decode-image.js';
import { fillExtension } from '../plan/item-identity.js';
import type { ItemRecord, Lane } from '../runs/item-record.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { ItemTarget } from '../plan/planned-item.js';
import { parseOutputMarker, type OutputMarker } from './output-marker.js';

export interface StoreContext {
  runId: string;
  lane: Lane;
  wantImage: boolean;
  wantText: boolean;
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
  let image: OutputMarker['image'];
  const warnings: string[] = [];
  const part = response.images[0];
  if (context.wantImage) {
    if (!part) throw new BunchError('E_NO_IMAGE', 'the response has no image part');
    const decoded = decodeImage(part, target.expected);
    if (decoded.sizeWarning) warnings.push(decoded.sizeWarning);
    const key = fillExtension(target.objectKey, decoded.ext);
    await store.put(key, decoded.bytes, { contentType: decoded.mimeType, metadata });
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
  const text = response.text.trim();
  if (context.wantText && text.length > 0) {
    const bytes = Buffer.from(text, 'utf8');
    await store.put(target.captionKey, bytes, { contentType: 'text/plain; charset=utf-8', metadata });
    caption = {
      key: target.captionKey,
      uri: store.uriFor(target.captionKey),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
      text,
    };
  }
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
  await store.put(target.markerKey, JSON.stringify(marker), { contentType: 'application/json', metadata });

  const record = baseRecord(target, context.lane, 'succeeded', finishedAt);
  record.costUsd = context.costUsd;
  record.attempts = context.attempts;
  record.usage = response.usage;
  if (image) record.image = image;
  if (caption) record.caption = caption;
  if (response.finishReason) record.finishReason = response.finishReason;
  if (warnings.length > 0) record.warnings = warnings;
  if (context.latencyMs !== undefined) record.latencyMs = context.latencyMs;
  if (context.startedAt) record.startedAt = context.startedAt;
  return record;
}

/**
 * Reads the marker of an item whose outputs are already stored (by an earlier run, or an earlier
 * delivery of this job). Returns undefined when the item still has to be generated.
 */
export async function readStoredOutput(store: ObjectStore, target: ItemTarget): Promise<OutputMarker | undefined> {
  const body = await store.get(target.markerKey);
  if (!body) return undefined;
  const marker = parseOutputMarker(body);
  return marker && marker.inputHash === target.inputHash ? marker : undefined;
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
    ...(target.references?.length ? { references: target.references.map((reference) => ({ ...reference })) } : {}),
  };
}
