import type { CatalogEvent, CatalogRow, RowRejection } from '../catalog/catalog-event.js';
import { isBunchError } from '../errors/bunch-error.js';
import type { ResolvedJob } from '../spec/resolved-job.js';
import { buildRequest } from './build-request.js';
import { EXTENSION_PLACEHOLDER, fillExtension } from './fill-extension.js';
import { computeInputHash } from './input-hash.js';
import { markerKey, RESERVED_KEY_PREFIX } from './marker-key.js';
import type { PlanEvent, PlannedItem } from './planned-item.js';
import { compileTemplate, renderTemplate, type CompiledTemplate } from './render-template.js';
import { assertSafeObjectKey, safeKeySegment } from './safe-key-segment.js';

/**
 * Rows × variants → planned items, in catalog order. Pure: no I/O beyond the events passed in.
 * A row that cannot render one variant's prompt or object key gives a rejection for that variant
 * (with `variant` set); its other variants are still planned. Catalog rejections pass through.
 */
/**
 * Rendered prompts travel in BullMQ job data (Redis) and batch shards; a catalog field of
 * megabytes would bloat both for a request that makes no sense anyway.
 */
export const MAX_PROMPT_BYTES = 64 * 1024;

export async function* planItems(job: ResolvedJob, events: AsyncIterable<CatalogEvent>): AsyncGenerator<PlanEvent> {
  const variants = job.variants.map((variant) => ({ variant, prompt: compileTemplate(variant.prompt) }));
  const keyTemplate = compileTemplate(job.output.key);
  let index = 0;
  for await (const event of events) {
    if (event.kind === 'rejected') {
      yield event;
      continue;
    }
    const objectKeysOfRow = new Set<string>();
    for (const { variant, prompt } of variants) {
      const planned = planOne(job, event.row, variant, prompt, keyTemplate, index);
      if ('reason' in planned) {
        yield { kind: 'rejected', rejection: planned };
        continue;
      }
      if (objectKeysOfRow.has(planned.objectKey)) {
        yield { kind: 'rejected', rejection: rejection(job, event.row, variant.name, `object key "${planned.objectKey}" is used by another variant of this row`) };
        continue;
      }
      objectKeysOfRow.add(planned.objectKey);
      index++;
      yield { kind: 'item', item: planned };
    }
  }
}

function planOne(
  job: ResolvedJob,
  row: CatalogRow,
  variant: ResolvedJob['variants'][number],
  promptTemplate: CompiledTemplate,
  keyTemplate: CompiledTemplate,
  index: number,
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
  const request = buildRequest(job, variant, prompt);
  const inputHash = computeInputHash(job.model, request);
  // Only the fields the key template names are encoded (a catalog row can carry long descriptions).
  const keyFields: Record<string, string> = {};
  for (const name of keyTemplate.fields) {
    const value = Object.hasOwn(row.fields, name) ? row.fields[name] : undefined;
    if (value !== undefined && value.trim() !== '') keyFields[name] = safeKeySegment(value);
  }
  Object.assign(keyFields, {
    key: safeKeySegment(row.key),
    variant: safeKeySegment(variant.name),
    hash: inputHash.slice(0, 12),
    ext: EXTENSION_PLACEHOLDER,
  });
  let objectKey: string;
  try {
    objectKey = renderTemplate(keyTemplate, keyFields);
    assertSafeObjectKey(fillExtension(objectKey, 'png'));
  } catch (error) {
    return templateRejection(job, row, variant.name, error, 'object key');
  }
  if (objectKey.startsWith(RESERVED_KEY_PREFIX)) {
    return rejection(job, row, variant.name, `object key "${objectKey}" falls under the reserved prefix "${RESERVED_KEY_PREFIX}"`);
  }
  const itemKey = `${row.key}#${variant.name}`;
  return {
    index,
    itemKey,
    rowKey: row.key,
    variant: variant.name,
    rowNumber: row.rowNumber,
    model: job.model,
    request,
    inputHash,
    expected: { width: variant.expected.width, height: variant.expected.height },
    objectKey,
    captionKey: fillExtension(objectKey, 'txt'),
    markerKey: markerKey(itemKey, inputHash),
  };
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
