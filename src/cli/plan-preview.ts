import { readCatalog } from '../catalog/read-catalog.js';
import type { ObjectStoreOpener } from '../lanes/run-context-cache.js';
import { readStoredOutput } from '../outputs/store-item-output.js';
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
  rejections: { line: number; field?: string; reason: string }[];
  estimatedUsd: number;
}

/** `bunch run --dry-run`: the plan and what it would cost, from the catalog and storage alone. */
export async function planPreview(job: ResolvedJob, openStore: ObjectStoreOpener, maxListed = 20): Promise<PlanPreview> {
  const config = runConfigFromJob(job, 'dry-run', new Date());
  const store = openStore(config.outputUrl);
  const preview: PlanPreview = { job: job.name, items: 0, alreadyStored: 0, toGenerate: 0, rejectedRows: 0, rejections: [], estimatedUsd: 0 };
  let chunk: PlannedItem[] = [];
  const check = async () => {
    const found = await Promise.all(chunk.map((item) => readStoredOutput(store, item)));
    preview.alreadyStored += found.filter(Boolean).length;
    chunk = [];
  };
  for await (const event of planItems(job, readCatalog(job))) {
    if (event.kind === 'rejected') {
      preview.rejectedRows += 1;
      if (preview.rejections.length < maxListed) {
        const { line, field, reason } = event.rejection;
        preview.rejections.push(field === undefined ? { line, reason } : { line, field, reason });
      }
      continue;
    }
    preview.items += 1;
    chunk.push(event.item);
    if (chunk.length >= 250) await check();
  }
  await check();
  await store.close();
  preview.toGenerate = preview.items - preview.alreadyStored;
  preview.estimatedUsd = Math.round(preview.toGenerate * job.pricing.usdPerImage * 100) / 100;
  return preview;
}
