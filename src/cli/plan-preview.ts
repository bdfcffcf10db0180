import { readCatalog } from '../catalog/read-catalog.js';
import { errorCodeOf } from '../errors/bunch-error.js';
import { costUsd } from '../gemini/usage-cost.js';
import { AUTO_BATCH_MIN_ITEMS, deadlineAllowsBatch } from '../lanes/batch/lane-choice.js';
import type { ObjectStoreOpener } from '../lanes/run-context-cache.js';
import { readStoredOutput } from '../outputs/store-item-output.js';
import { completeDependant } from '../plan/complete-dependant.js';
import { ReferenceResolver } from '../references/reference-resolver.js';
import { planItems } from '../plan/plan-items.js';
import type { PlannedItem } from '../plan/planned-item.js';
import { runConfigFromJob } from '../runs/run-config-from-job.js';
import type { ResolvedJob } from '../spec/resolved-job.js';

export interface PlanPreview {
  job: string;
  items: number;
  alreadyStored: number;
  toGenerate: number;
  rejectedRows: number;
  rejections: { line: number; field?: string; code: string; reason: string }[];
  /** The lane the run would take (for `auto`: by item count and deadline, as startRun decides). */
  lane: 'sync' | 'batch';
  /** Items to generate × the price of that lane. */
  estimatedUsd: number;
  /** Set when storage could not be read (no credentials here, say): every item counts as to generate. */
  storageUnchecked?: string;
}

/** `bunch run --dry-run`: the plan and what it would cost, from the catalog and storage alone. */
export async function planPreview(
  job: ResolvedJob,
  openStore: ObjectStoreOpener,
  options: { maxListed?: number; allowPrivateReferences?: boolean } = {},
): Promise<PlanPreview> {
  const maxListed = options.maxListed ?? 20;
  const config = runConfigFromJob(job, 'dry-run', new Date());
  const store = openStore(config.outputUrl);
  // References are fetched and checked (their bytes decide each item's inputHash) but not stored.
  const resolver = job.references
    ? new ReferenceResolver({ settings: job.references, store, openStore, allowPrivate: options.allowPrivateReferences ?? false, dryRun: true })
    : undefined;
  const preview: PlanPreview = { job: job.name, items: 0, alreadyStored: 0, toGenerate: 0, rejectedRows: 0, rejections: [], lane: 'sync', estimatedUsd: 0 };
  let chunk: PlannedItem[] = [];
  const check = async () => {
    const current = chunk;
    chunk = [];
    if (preview.storageUnchecked !== undefined) return;
    try {
      const heroes = current.filter((item) => !item.from);
      const found = await Promise.all(heroes.map((item) => readStoredOutput(store, item)));
      const storedHeroes = new Map(heroes.flatMap((item, i) => (found[i]?.image ? [[item.itemKey, found[i].image] as const] : [])));
      preview.alreadyStored += found.filter(Boolean).length;
      // A dependant (`from:`) is stored only if its hero is: its identity includes the hero's image.
      for (const item of current) {
        const hero = item.from ? storedHeroes.get(item.from.itemKey) : undefined;
        if (!hero) continue;
        const { request, ...target } = item;
        const completed = completeDependant(target, request, hero);
        if (await readStoredOutput(store, completed.target)) preview.alreadyStored += 1;
      }
    } catch (error) {
      // A dry run is still useful without storage access: count everything as to be generated.
      preview.storageUnchecked = `${errorCodeOf(error)}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
      preview.alreadyStored = 0;
    }
  };
  for await (const event of planItems(job, readCatalog(job), resolver ? { references: resolver } : {})) {
    if (event.kind === 'rejected') {
      preview.rejectedRows += 1;
      if (preview.rejections.length < maxListed) {
        const { line, field, code, reason } = event.rejection;
        preview.rejections.push(field === undefined ? { line, code, reason } : { line, field, code, reason });
      }
      continue;
    }
    preview.items += 1;
    // Cut between rows only, so a hero and its dependants are checked together.
    if (chunk.length >= 250 && event.item.rowKey !== chunk.at(-1)?.rowKey) await check();
    chunk.push(event.item);
  }
  await check();
  await resolver?.close();
  await store.close();
  preview.toGenerate = preview.items - preview.alreadyStored;
  preview.lane =
    job.lane === 'auto'
      ? preview.toGenerate >= AUTO_BATCH_MIN_ITEMS && deadlineAllowsBatch(config.batch.deadlineMs)
        ? 'batch'
        : 'sync'
      : job.lane;
  preview.estimatedUsd = costUsd({ lane: preview.lane, ...job.pricing, images: preview.toGenerate });
  return preview;
}
