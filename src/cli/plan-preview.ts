import type { RowRejection } from '../catalog/catalog-event.js';
import { errorCodeOf } from '../errors/bunch-error.js';
import { redactSecrets } from '../errors/redact-secrets.js';
import { costUsd } from '../gemini/usage-cost.js';
import { imagePriceUsd } from '../gemini/run-pricing.js';
import { AUTO_BATCH_MIN_ITEMS, deadlineAllowsBatch } from '../lanes/batch/lane-choice.js';
import type { ObjectStoreOpener } from '../lanes/run-context-cache.js';
import { StoredOutputLookup } from '../outputs/stored-output-lookup.js';
import { completeDependant } from '../plan/complete-dependant.js';
import type { GenerateContentRequest } from '../gemini/generate-content-request.js';
import { planRun } from '../lanes/plan-run.js';
import { ReferenceResolver } from '../references/reference-resolver.js';
import type { PlannedItem } from '../plan/planned-item.js';
import { runConfigFromJob } from '../runs/run-config-from-job.js';
import type { ResolvedJob } from '../spec/resolved-job.js';

export interface PreviewRejection {
  file: string;
  line: number;
  rowNumber: number;
  key?: string;
  field?: string;
  code: RowRejection['code'];
  reason: string;
}

export interface PlanPreview {
  job: string;
  items: number;
  alreadyStored: number;
  toGenerate: number;
  rejectedRows: number;
  /** The first rejected rows (up to `maxListed`), each where it is: file, line, row number, field. */
  rejections: PreviewRejection[];
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
  options: { maxListed?: number; allowPrivateReferences?: boolean; tempRoot?: string } = {},
): Promise<PlanPreview> {
  const maxListed = options.maxListed ?? 20;
  const config = runConfigFromJob(job, 'dry-run', new Date());
  const store = openStore(config.outputUrl);
  // References are fetched and checked (their bytes decide each item's inputHash) but not stored.
  const resolver = job.references
    ? new ReferenceResolver({ settings: job.references, store, openStore, allowPrivate: options.allowPrivateReferences ?? false, dryRun: true })
    : undefined;
  const preview: PlanPreview = { job: job.name, items: 0, alreadyStored: 0, toGenerate: 0, rejectedRows: 0, rejections: [], lane: 'sync', estimatedUsd: 0 };
  // A dry run is still useful without storage access: once a read fails, everything counts as to be generated.
  const unchecked = (error: unknown) => {
    preview.storageUnchecked = `${errorCodeOf(error)}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
    return undefined;
  };
  // Same look-up as a real run (stored-output index + one listing), but nothing is repaired.
  const lookup = await StoredOutputLookup.open(store, { jobName: job.name, repair: false, ...(options.tempRoot ? { tempRoot: options.tempRoot } : {}) }).catch(unchecked);
  const readMarker = async (item: PlannedItem) => {
    if (preview.storageUnchecked !== undefined || !lookup) return undefined;
    try {
      return await lookup.markerOf(item);
    } catch (error) {
      return unchecked(error);
    }
  };
  // A catalog that breaks off mid-file ends the preview with its error: the index's temp file,
  // the resolver and the store are released either way.
  try {
    for await (const step of planRun(job, { ...(resolver ? { references: resolver } : {}), readMarker })) {
      if (step.kind === 'rejected') {
        preview.rejectedRows += 1;
        if (preview.rejections.length < maxListed) {
          const { file, line, rowNumber, key, field, code } = step.rejection;
          // A row's own cell can be quoted in its reason (a reference URL with a signed query).
          const reason = redactSecrets(step.rejection.reason);
          preview.rejections.push({ file, line, rowNumber, ...(key !== undefined ? { key } : {}), ...(field !== undefined ? { field } : {}), code, reason });
        }
        continue;
      }
      preview.items += step.items;
      for (const { marker, dependants } of step.stored) {
        preview.alreadyStored += 1;
        // A dependant (`from:`) is stored only if its hero is: its identity includes the hero's image.
        if (!marker.image) continue;
        for (const { target, request } of dependants) {
          const completed = completeDependant(target, request as unknown as GenerateContentRequest, marker.image);
          if (await readMarker({ ...completed.target, request: completed.request })) preview.alreadyStored += 1;
        }
      }
    }
  } finally {
    await lookup?.close();
    await resolver?.close();
    await store.close();
  }
  if (preview.storageUnchecked !== undefined) preview.alreadyStored = 0;
  preview.toGenerate = preview.items - preview.alreadyStored;
  preview.lane =
    job.lane === 'auto'
      ? preview.toGenerate >= AUTO_BATCH_MIN_ITEMS && deadlineAllowsBatch(config.batch.deadlineMs)
        ? 'batch'
        : 'sync'
      : job.lane;
  // Images at the dearest variant's price; token charges (prompt, references, thinking) come on top.
  preview.estimatedUsd = costUsd({ lane: preview.lane, usdPerImage: imagePriceUsd(job.pricing, undefined), batchDiscount: job.pricing.batchDiscount, images: preview.toGenerate });
  return preview;
}
