import type { CaptionRef, GroundingSummary, ImageRef, StepRecord, ThoughtsRef } from '../runs/item-record.js';

/**
 * The JSON stored at an item's marker key after its image and caption are stored. Its presence
 * means "this exact input was generated and stored": runs and duplicate deliveries read it instead
 * of paying for the call again (invariants 2 and 4).
 */
export interface OutputMarker {
  schemaVersion: 1;
  itemKey: string;
  inputHash: string;
  model: string;
  image?: ImageRef;
  caption?: CaptionRef;
  grounding?: GroundingSummary;
  thoughts?: ThoughtsRef;
  steps?: StepRecord[];
  usage?: { promptTokens: number; outputTokens: number; thoughtsTokens: number; totalTokens: number };
  finishReason?: string;
  warnings?: string[];
  /** What the call that produced these outputs cost (the lane's price). */
  costUsd?: number;
  lane: 'sync' | 'batch';
  runId: string;
  createdAt: string;
}

export function parseOutputMarker(body: Buffer): OutputMarker | undefined {
  try {
    const value = JSON.parse(body.toString('utf8')) as Partial<OutputMarker>;
    return value.schemaVersion === 1 && typeof value.inputHash === 'string' ? (value as OutputMarker) : undefined;
  } catch {
    return undefined;
  }
}
