import type { RowRejection } from '../catalog/catalog-event.js';
import { readCatalog } from '../catalog/read-catalog.js';
import type { OutputMarker } from '../outputs/output-marker.js';
import { planItems, type PlanItemsOptions } from '../plan/plan-items.js';
import type { PlannedItem } from '../plan/planned-item.js';
import { selectItems, type ItemSelection } from '../plan/select-items.js';
import type { ResolvedJob } from '../spec/resolved-job.js';
import { itemTargetOf, type SyncWork } from './enqueue-generate-jobs.js';

/** Items are checked against storage in chunks this big (and dispatched as one by startRun). */
export const PLAN_CHUNK = 250;
/**
 * The first chunk is smaller, and each next one twice as big up to the full size: workers start on
 * the first items after a few milliseconds instead of after a whole chunk was planned and queued.
 */
const FIRST_CHUNK = 16;

/** An item whose outputs are stored already, with the drafts of the variants made from it. */
export interface StoredItem {
  item: PlannedItem;
  marker: OutputMarker;
  dependants: SyncWork[];
}

/**
 * What planning decides, in catalog order: a rejected row, or a chunk of items split into those
 * already stored (skip) and those to generate. Dependants (`from:` variants) never stand alone:
 * they ride on their hero, whose chunk they share (chunks are cut between rows).
 */
export type PlanStep =
  | { kind: 'rejected'; rejection: RowRejection }
  | { kind: 'chunk'; items: number; stored: StoredItem[]; generate: SyncWork[] };

export interface PlanRunOptions extends PlanItemsOptions {
  /** The item's marker if its outputs are stored (readStoredOutput on the run's store). */
  readMarker(item: PlannedItem): Promise<OutputMarker | undefined>;
  chunkSize?: number;
  /** Only these items (`bunch retry`); default the whole catalog. */
  select?: ItemSelection;
}

/**
 * The one planning core of `bunch run` and `bunch run --dry-run`: catalog → planned items →
 * storage check, as decisions. No side effects of its own beyond the reads it is given (the
 * reference resolver stores photos; the dry run passes one that does not).
 */
export async function* planRun(job: ResolvedJob, options: PlanRunOptions): AsyncGenerator<PlanStep> {
  const fullSize = options.chunkSize ?? PLAN_CHUNK;
  let chunkSize = Math.min(FIRST_CHUNK, fullSize);
  let chunk: PlannedItem[] = [];
  const planned = planItems(job, readCatalog(job), options);
  for await (const event of options.select ? selectItems(planned, options.select) : planned) {
    if (event.kind === 'rejected') {
      yield event;
      continue;
    }
    if (chunk.length >= chunkSize && event.item.rowKey !== chunk.at(-1)?.rowKey) {
      yield await decide(chunk, options);
      chunk = [];
      chunkSize = Math.min(chunkSize * 2, fullSize);
    }
    chunk.push(event.item);
  }
  if (chunk.length > 0) yield await decide(chunk, options);
}

async function decide(items: PlannedItem[], options: PlanRunOptions): Promise<PlanStep> {
  const dependantsOf = new Map<string, SyncWork[]>();
  for (const item of items) {
    if (!item.from) continue;
    const list = dependantsOf.get(item.from.itemKey) ?? [];
    list.push(syncWorkOf(item));
    dependantsOf.set(item.from.itemKey, list);
  }
  const heroes = items.filter((item) => !item.from);
  const markers = await Promise.all(heroes.map((item) => options.readMarker(item)));
  const stored: StoredItem[] = [];
  const generate: SyncWork[] = [];
  for (const [i, item] of heroes.entries()) {
    const marker = markers[i];
    const dependants = dependantsOf.get(item.itemKey) ?? [];
    if (marker) stored.push({ item, marker, dependants });
    else generate.push({ ...syncWorkOf(item), ...(dependants.length > 0 ? { dependants } : {}) });
  }
  return { kind: 'chunk', items: items.length, stored, generate };
}

export function syncWorkOf(item: PlannedItem): SyncWork {
  return { target: itemTargetOf(item), request: item.request as unknown as Record<string, unknown> };
}
