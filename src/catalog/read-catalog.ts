import type { ResolvedJob } from '../spec/resolved-job.js';
import type { CatalogEvent } from './catalog-event.js';
import { readCsvRecords } from './csv-records.js';
import { readJsonArrayRecords } from './json-array-records.js';
import { readJsonlRecords } from './jsonl-records.js';
import { openCatalogFile } from './open-catalog-file.js';
import { RowNormalizer } from './row-normalizer.js';
import type { SourceRecord } from './source-record.js';

/**
 * Streams a job's catalog as rows and rejections, in file order, in constant memory (apart from
 * the set of keys seen, see RowNormalizer). A missing or structurally broken file throws
 * `E_CATALOG_FILE`; a bad row is a `rejected` event and reading goes on.
 */
export async function* readCatalog(job: ResolvedJob): AsyncGenerator<CatalogEvent> {
  const catalog = job.catalog;
  const handle = await openCatalogFile(catalog.path, catalog.displayPath);
  const normalizer = new RowNormalizer(catalog, catalog.displayPath);
  let records: AsyncGenerator<SourceRecord>;
  switch (catalog.format) {
    case 'csv':
      records = readCsvRecords(handle, catalog.displayPath, catalog.delimiter);
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
