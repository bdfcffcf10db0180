import type { ResolvedJob } from '../spec/resolved-job.js';
import { attachGroupReferences } from './attach-group-references.js';
import type { CatalogEvent, NormalizedEvent, SourceRecord } from './catalog-event.js';
import { readCsvRecords } from './csv-records.js';
import { readJsonArrayRecords } from './json-array-records.js';
import { readJsonlRecords } from './jsonl-records.js';
import { openCatalogFile } from './open-catalog-file.js';
import { RowNormalizer } from './row-normalizer.js';
import { compileTemplate } from '../spec/render-template.js';

/**
 * Streams a job's catalog as rows and rejections, in file order, in constant memory (apart from
 * the set of keys seen, see RowNormalizer). A missing or structurally broken file throws
 * `E_CATALOG_FILE`; a bad row is a `rejected` event and reading goes on.
 */
export async function* readCatalog(job: ResolvedJob): AsyncGenerator<CatalogEvent> {
  const sources = job.references?.sources ?? [];
  const columnsOf = (scope: 'row' | 'group') =>
    sources.filter((source) => source.scope === scope && source.column !== undefined).map((source) => source.column as string);
  const groupColumns = columnsOf('group');
  const groupBy = job.catalog.forwardFillBy;
  const rows = readCatalogRows(job, { row: columnsOf('row'), group: groupColumns });
  if (groupColumns.length === 0 || groupBy === undefined) {
    // Without group-scoped columns the normalizer never makes image-only rows.
    for await (const event of rows) if (event.kind !== 'groupImage') yield event;
    return;
  }
  yield* attachGroupReferences(rows, groupBy, groupColumns);
}

async function* readCatalogRows(
  job: ResolvedJob,
  referenceColumns: { row: readonly string[]; group: readonly string[] },
): AsyncGenerator<NormalizedEvent> {
  const catalog = job.catalog;
  const handle = await openCatalogFile(catalog.path, catalog.displayPath);
  const normalizer = new RowNormalizer(catalog, catalog.displayPath, referenceColumns, templateColumns(job));
  let records: AsyncGenerator<SourceRecord>;
  switch (catalog.format) {
    case 'csv':
      // A never-closed quote has the file read again (csv-records.ts): from a handle of its own.
      records = readCsvRecords(handle, catalog.displayPath, catalog.delimiter, () => openCatalogFile(catalog.path, catalog.displayPath));
      break;
    case 'json':
      records = readJsonArrayRecords(handle, catalog.displayPath);
      break;
    case 'jsonl':
      records = readJsonlRecords(handle, catalog.displayPath);
      break;
  }
  try {
    for await (const record of records) {
      if (record.kind === 'header') normalizer.checkHeader(record.columns, record.line);
      else yield normalizer.accept(record);
    }
  } finally {
    await records.return(undefined);
    await handle.close().catch(() => undefined);
  }
}

/** The catalog columns the job's prompts, steps and key template read. */
function templateColumns(job: ResolvedJob): string[] {
  const templates = [...job.variants.map((variant) => variant.prompt), ...job.steps, job.output.key];
  return [...new Set(templates.flatMap((template) => [...compileTemplate(template).fields]))];
}
