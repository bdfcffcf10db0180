import type { CaptionRef, ImageRef, ItemRecord } from '../runs/item-record.js';
import type { OutputMarker } from './output-marker.js';

/**
 * One line of a job's stored-output index (`runs/<runId>/stored-index.jsonl`): an item whose
 * outputs a run left in storage, with what a later run needs to record it `skipped` without
 * reading its marker. URIs are left out (the reading store makes them again from the keys); the
 * marker key is derived from (itemKey, inputHash).
 */
export interface StoredIndexEntry {
  itemKey: string;
  inputHash: string;
  model: string;
  lane: OutputMarker['lane'];
  /** The run whose call produced the outputs. */
  runId: string;
  createdAt: string;
  image?: Omit<ImageRef, 'uri'>;
  caption?: Omit<CaptionRef, 'uri'>;
  finishReason?: string;
  warnings?: string[];
  grounding?: OutputMarker['grounding'];
  thoughts?: OutputMarker['thoughts'];
  steps?: OutputMarker['steps'];
}

/** The entry of a finished item whose outputs are stored; undefined for any other record. */
export function storedIndexEntryOf(record: ItemRecord, runId: string): StoredIndexEntry | undefined {
  if (record.status !== 'succeeded' && record.status !== 'skipped') return undefined;
  if (!record.image && !record.caption) return undefined;
  const entry: StoredIndexEntry = {
    itemKey: record.itemKey,
    inputHash: record.inputHash,
    model: record.model,
    lane: record.lane,
    runId: record.reused && record.reusedFrom ? record.reusedFrom : runId,
    createdAt: record.finishedAt,
  };
  if (record.image) entry.image = withoutUri(record.image);
  if (record.caption) entry.caption = withoutUri(record.caption);
  if (record.finishReason) entry.finishReason = record.finishReason;
  if (record.warnings?.length) entry.warnings = record.warnings;
  if (record.grounding) entry.grounding = record.grounding;
  if (record.thoughts) entry.thoughts = record.thoughts;
  if (record.steps) entry.steps = record.steps;
  return entry;
}

/** The outputs an entry says exist (its marker aside). */
export function entryOutputKeys(entry: StoredIndexEntry): string[] {
  const outputs: string[] = [];
  if (entry.image) outputs.push(entry.image.key);
  if (entry.caption) outputs.push(entry.caption.key);
  return outputs;
}

/** The marker the entry stands for, as readStoredOutput would have returned it. */
export function markerOfEntry(entry: StoredIndexEntry, uriFor: (key: string) => string): OutputMarker {
  const marker: OutputMarker = {
    schemaVersion: 1,
    itemKey: entry.itemKey,
    inputHash: entry.inputHash,
    model: entry.model,
    lane: entry.lane,
    runId: entry.runId,
    createdAt: entry.createdAt,
  };
  if (entry.image) marker.image = { ...entry.image, uri: uriFor(entry.image.key) };
  if (entry.caption) marker.caption = { ...entry.caption, uri: uriFor(entry.caption.key) };
  if (entry.finishReason) marker.finishReason = entry.finishReason;
  if (entry.warnings) marker.warnings = entry.warnings;
  if (entry.grounding) marker.grounding = entry.grounding;
  if (entry.thoughts) marker.thoughts = entry.thoughts;
  if (entry.steps) marker.steps = entry.steps;
  return marker;
}

function withoutUri<T extends { uri: string }>(ref: T): Omit<T, 'uri'> {
  const { uri: _uri, ...rest } = ref;
  return rest;
}
