import type { CatalogEvent, CatalogRow, RowRejection } from '../catalog/catalog-event.js';
import { BunchError, isBunchError } from '../errors/bunch-error.js';
import { findImageModel } from '../gemini/model-catalog.js';
import type { ItemReference } from '../references/item-reference.js';
import type { ReferenceOutcome } from '../references/reference-resolver.js';
import type { ReferenceLocation } from '../references/reference-location.js';
import type { ReferenceFailureReason } from '../references/reference-fetch-options.js';
import { limitKindOf, referenceLimitsOf, type ReferenceLimits } from '../references/reference-limits.js';
import { rowReferenceLocations, type RowReferenceLocation } from './row-reference-locations.js';
import type { ResolvedJob } from '../spec/resolved-job.js';
import { contextOverflow, estimateInputTokens, systemTokensOf } from './context-budget.js';
import { buildRequest } from './build-request.js';
import { computeInputHash, EXTENSION_PLACEHOLDER, fillExtension, fillHash, HASH_PLACEHOLDER, keptStepKey, markerKey } from './item-identity.js';
import { RESERVED_KEY_PREFIX } from '../storage/reserved-key-prefix.js';
import { PROMPT_SHOWN_CHARS, type PlanEvent, type PlannedItem } from './planned-item.js';
import { compileTemplate, renderTemplate, type CompiledTemplate } from '../spec/render-template.js';
import { assertSafeObjectKey, safeKeySegment } from './safe-key-segment.js';

/** Where bunch keeps each run's manifest and summary, in every output location. */
const RUNS_PREFIX = 'runs/';

/**
 * Rendered prompts travel in BullMQ job data (Redis) and batch shards; a catalog field of
 * megabytes would bloat both for a request that makes no sense anyway.
 */
export const MAX_PROMPT_BYTES = 64 * 1024;

/** Rows whose reference images are being fetched at once, ahead of the row being handed out. */
const REFERENCE_WINDOW_ROWS = 64;

export interface PlanItemsOptions {
  /** Fetches, normalises and stores reference images (ReferenceResolver); needed when the job names references. */
  references?: { resolve(location: ReferenceLocation): Promise<ReferenceOutcome> };
}

/**
 * Rows × variants → planned items, in catalog order. No I/O of its own: reference images go
 * through the resolver port. A row that cannot render one variant's prompt or object key gives a
 * rejection for that variant (with `variant` set); its other variants are still planned. A row
 * with an unusable reference image is rejected whole (`E_REFERENCE`) before anything is paid.
 * Catalog rejections pass through.
 *
 * With references, up to REFERENCE_WINDOW_ROWS rows are resolved concurrently (the resolver bounds
 * the fetches) and handed out in catalog order.
 */
export async function* planItems(
  job: ResolvedJob,
  events: AsyncIterable<CatalogEvent>,
  options: PlanItemsOptions = {},
): AsyncGenerator<PlanEvent> {
  const planner = new RowPlanner(job, options);
  let index = 0;
  const number = function* (planned: PlanEvent[]): Generator<PlanEvent> {
    for (const event of planned) {
      if (event.kind === 'item') event.item.index = index++;
      yield event;
    }
  };
  if (!job.references) {
    for await (const event of events) yield* number(event.kind === 'rejected' ? [event] : planner.planVariants(event.row, []));
    return;
  }
  const window: Promise<PlanEvent[]>[] = [];
  for await (const event of events) {
    const planned = event.kind === 'rejected' ? Promise.resolve([event]) : planner.planWithReferences(event.row);
    // Awaited in order below; until then a failure must not count as unhandled.
    planned.catch(() => undefined);
    window.push(planned);
    if (window.length >= REFERENCE_WINDOW_ROWS) yield* number(await (window.shift() as Promise<PlanEvent[]>));
  }
  while (window.length > 0) yield* number(await (window.shift() as Promise<PlanEvent[]>));
}

class RowPlanner {
  private readonly variants: { variant: ResolvedJob['variants'][number]; prompt: CompiledTemplate }[];
  private readonly keyTemplate: CompiledTemplate;
  private readonly stepTemplates: CompiledTemplate[];
  private readonly referenceTemplates = new Map<number, CompiledTemplate>();
  private readonly limits: ReferenceLimits | undefined;

  constructor(
    private readonly job: ResolvedJob,
    private readonly options: PlanItemsOptions,
  ) {
    this.variants = job.variants.map((variant) => ({ variant, prompt: compileTemplate(variant.prompt) }));
    this.keyTemplate = compileTemplate(job.output.key);
    this.stepTemplates = job.steps.map((step) => compileTemplate(step));
    if (job.references) {
      if (!options.references) throw new BunchError('E_INTERNAL', 'planning a job with references needs a reference resolver');
      for (const [index, source] of job.references.sources.entries()) {
        if (source.template !== undefined) this.referenceTemplates.set(index, compileTemplate(source.template));
      }
      const model = findImageModel(job.model);
      if (!model) throw new BunchError('E_INTERNAL', `unknown model ${job.model}`);
      const limits = referenceLimitsOf(model);
      // A variant made from another (`from:`) also sends that variant's image: keep a place for it.
      const heroSlot = job.variants.some((variant) => variant.from !== undefined) ? 1 : 0;
      this.limits = { total: limits.total - heroSlot, object: limits.object - heroSlot, character: limits.character };
    }
  }

  async planWithReferences(row: CatalogRow): Promise<PlanEvent[]> {
    const settings = this.job.references;
    const resolver = this.options.references;
    if (!settings || !resolver || !this.limits) return this.planVariants(row, []);
    const named = rowReferenceLocations(row, settings, this.referenceTemplates);
    if (!named.ok) return [this.referenceRejection(row, named.reason, named.field, 'bad-location')];
    const chosen = this.withinLimits(named.locations);
    if ('reason' in chosen) return [this.referenceRejection(row, chosen.reason, chosen.field)];
    const outcomes = await Promise.all(chosen.map(({ location }) => resolver.resolve(location)));
    const references: ItemReference[] = [];
    const shas = new Set<string>();
    for (const [i, outcome] of outcomes.entries()) {
      const { location, role, field } = chosen[i] as RowReferenceLocation;
      if (!outcome.ok) return [this.referenceRejection(row, outcome.error.message, field, outcome.error.reason as ReferenceFailureReason | undefined)];
      // Two locations of the same photo (a CDN cache-buster, a copy in two columns) are sent once.
      if (shas.has(outcome.reference.sha256)) continue;
      shas.add(outcome.reference.sha256);
      references.push({ ...outcome.reference, source: location.display, role });
    }
    return this.planVariants(row, references);
  }

  /**
   * The model's per-request limits: a row naming more images of its own than the model takes is
   * rejected (which photos to drop is the merchant's call); photos collected from the row's group
   * fill whatever room is left, in file order.
   */
  private withinLimits(locations: RowReferenceLocation[]): RowReferenceLocation[] | { reason: string; field: string } {
    const limits = this.limits as ReferenceLimits;
    const used = { object: 0, character: 0 };
    const chosen: RowReferenceLocation[] = [];
    for (const entry of locations) {
      const kind = limitKindOf(entry.role);
      const full = used[kind] >= limits[kind] || chosen.length >= limits.total;
      if (full && entry.fromGroup) continue;
      if (full) {
        const own = locations.filter((other) => !other.fromGroup);
        const ofKind = own.filter((other) => limitKindOf(other.role) === kind).length;
        return {
          field: entry.field,
          reason:
            `the row names ${own.length} reference image(s) (${ofKind} ${kind}), over what ${this.job.model} takes in one request ` +
            `(${limits.total} in all, ${limits.object} object/style, ${limits.character} character` +
            `${this.job.variants.some((variant) => variant.from !== undefined) ? ', one place kept for the image a `from:` variant is made from' : ''})`,
        };
      }
      used[kind] += 1;
      chosen.push(entry);
    }
    return chosen;
  }

  planVariants(row: CatalogRow, references: readonly ItemReference[]): PlanEvent[] {
    const events: PlanEvent[] = [];
    const objectKeysOfRow = new Set<string>();
    const plannedVariants = new Set<string>();
    for (const { variant, prompt } of this.variants) {
      if (variant.from !== undefined && !plannedVariants.has(variant.from)) {
        events.push({ kind: 'rejected', rejection: rejection(this.job, row, variant.name, `it is made from variant "${variant.from}", which was rejected for this row`) });
        continue;
      }
      const planned = planOne(this.job, row, variant, prompt, this.keyTemplate, references, this.stepTemplates);
      if ('reason' in planned) {
        events.push({ kind: 'rejected', rejection: planned });
        continue;
      }
      if (objectKeysOfRow.has(planned.objectKey)) {
        events.push({ kind: 'rejected', rejection: rejection(this.job, row, variant.name, `object key "${planned.objectKey}" is used by another variant of this row`) });
        continue;
      }
      objectKeysOfRow.add(planned.objectKey);
      plannedVariants.add(variant.name);
      events.push({ kind: 'item', item: planned });
    }
    return events;
  }

  private referenceRejection(row: CatalogRow, reason: string, field: string, referenceFailure?: ReferenceFailureReason): PlanEvent {
    return {
      kind: 'rejected',
      rejection: {
        file: this.job.catalog.displayPath,
        rowNumber: row.rowNumber,
        line: row.line,
        key: row.key,
        field,
        code: 'E_REFERENCE',
        reason,
        ...(referenceFailure !== undefined ? { referenceFailure } : {}),
      },
    };
  }
}

function planOne(
  job: ResolvedJob,
  row: CatalogRow,
  variant: ResolvedJob['variants'][number],
  promptTemplate: CompiledTemplate,
  keyTemplate: CompiledTemplate,
  references: readonly ItemReference[],
  stepTemplates: readonly CompiledTemplate[],
): PlannedItem | RowRejection {
  // Built-in names win over same-named catalog fields: {{key}} is always the row key.
  const promptFields = { ...row.fields, key: row.key, variant: variant.name };
  let prompt: string;
  try {
    prompt = renderTemplate(promptTemplate, promptFields);
  } catch (error) {
    return templateRejection(job, row, variant.name, error, 'prompt');
  }
  const promptBytes = Buffer.byteLength(prompt, 'utf8');
  if (promptBytes > MAX_PROMPT_BYTES) {
    const fields: Readonly<Record<string, string>> = promptFields;
    const longest = [...promptTemplate.fields].sort((a, b) => (fields[b]?.length ?? 0) - (fields[a]?.length ?? 0))[0];
    return rejection(job, row, variant.name, `prompt is ${promptBytes} bytes, over the ${MAX_PROMPT_BYTES}-byte limit (a product prompt that long is almost surely a data error)`, longest);
  }
  const steps: string[] = [];
  for (const [index, template] of stepTemplates.entries()) {
    try {
      steps.push(renderTemplate(template, promptFields));
    } catch (error) {
      return templateRejection(job, row, variant.name, error, `step ${index + 1}`);
    }
  }
  const request = buildRequest(job, variant, prompt, references);
  const model = findImageModel(job.model);
  const overflow = model && contextOverflow(estimateInputTokens(request, model, systemTokensOf(job.system), steps), model);
  if (overflow) return { ...rejection(job, row, variant.name, overflow), code: 'E_CONTEXT_LIMIT' };
  const inputHash = computeInputHash(job.model, request, steps);
  // Only the fields the key template names are encoded (a catalog row can carry long descriptions).
  const keyFields: Record<string, string> = {};
  for (const name of keyTemplate.fields) {
    const value = Object.hasOwn(row.fields, name) ? row.fields[name] : undefined;
    if (value !== undefined && value.trim() !== '') keyFields[name] = safeKeySegment(value);
  }
  Object.assign(keyFields, {
    key: safeKeySegment(row.key),
    variant: safeKeySegment(variant.name),
    // A dependant's hash is known only once its hero's image is (complete-dependant.ts).
    hash: variant.from === undefined ? inputHash.slice(0, 12) : HASH_PLACEHOLDER,
    ext: EXTENSION_PLACEHOLDER,
  });
  let objectKey: string;
  try {
    objectKey = renderTemplate(keyTemplate, keyFields);
    assertSafeObjectKey(fillHash(fillExtension(objectKey, 'png'), inputHash));
    // The longest kept step image's key too: found now, not after its turn was paid for.
    if (job.output.keepSteps && steps.length > 0) assertSafeObjectKey(fillHash(fillExtension(keptStepKey(objectKey, steps.length), 'jpeg'), inputHash));
  } catch (error) {
    return templateRejection(job, row, variant.name, error, 'object key');
  }
  if (objectKey.startsWith(RESERVED_KEY_PREFIX)) {
    return rejection(job, row, variant.name, `object key "${objectKey}" falls under the reserved prefix "${RESERVED_KEY_PREFIX}"`);
  }
  // A row whose key (or another field) is literally `runs` would write among the runs' manifests
  // and summaries (the job file's template is checked for this; a row's values are checked here).
  if (objectKey.startsWith(RUNS_PREFIX)) {
    return rejection(job, row, variant.name, `object key "${objectKey}" falls under "${RUNS_PREFIX}", where bunch keeps its runs' manifests and summaries`);
  }
  const itemKey = `${row.key}#${variant.name}`;
  const item: PlannedItem = {
    // Numbered in catalog order when handed out (planItems).
    index: 0,
    itemKey,
    rowKey: row.key,
    variant: variant.name,
    rowNumber: row.rowNumber,
    model: job.model,
    request,
    inputHash,
    prompt: prompt.length <= PROMPT_SHOWN_CHARS ? prompt : `${prompt.slice(0, PROMPT_SHOWN_CHARS)}…`,
    expected: { width: variant.expected.width, height: variant.expected.height },
    objectKey,
    captionKey: fillExtension(objectKey, job.caption ? 'json' : 'txt'),
    markerKey: markerKey(itemKey, inputHash),
  };
  if (references.length > 0) item.references = references.map((reference) => ({ ...reference }));
  if (steps.length > 0) item.steps = steps;
  if (variant.from !== undefined) item.from = { variant: variant.from, itemKey: `${row.key}#${variant.from}` };
  return item;
}

function templateRejection(job: ResolvedJob, row: CatalogRow, variant: string, error: unknown, what: string): RowRejection {
  if (!isBunchError(error)) throw error;
  const field = error.location?.field;
  return rejection(job, row, variant, `${what}: ${error.message}`, field);
}

function rejection(job: ResolvedJob, row: CatalogRow, variant: string, reason: string, field?: string): RowRejection {
  return {
    file: job.catalog.displayPath,
    rowNumber: row.rowNumber,
    line: row.line,
    key: row.key,
    ...(field !== undefined ? { field } : {}),
    variant,
    code: 'E_CATALOG_ROW',
    reason,
  };
}
