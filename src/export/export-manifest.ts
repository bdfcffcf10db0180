import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { BunchError } from '../errors/bunch-error.js';
import { readLines } from '../lanes/batch/read-lines.js';
import type { ManifestLine } from '../manifest/manifest-line.js';
import { runObjectKeys } from '../runs/run-keys.js';
import type { ObjectStore } from '../storage/object-store.js';
import { csvLine } from './csv-line.js';
import { neutralizeCell } from './neutralize-cell.js';
import type { LinkSigner } from './presign-link.js';

/** Every status a manifest line can have: the item states, and `rejected` catalog rows. */
export const EXPORT_STATUSES = ['succeeded', 'failed', 'skipped', 'cancelled', 'rejected'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

export const CSV_COLUMNS = [
  'key', 'variant', 'itemKey', 'status', 'errorCode', 'errorMessage', 'lane', 'attempts', 'costUsd',
  'image', 'imageLink', 'caption', 'warnings', 'rowNumber', 'runId',
] as const;
type CsvColumn = (typeof CSV_COLUMNS)[number];

export interface ExportOptions {
  format: 'jsonl' | 'csv';
  /** Only lines with these statuses; absent: every line. */
  statuses?: ReadonlySet<ExportStatus>;
  /** Presigned HTTPS links for s3:// images (CSV `imageLink`); absent: the image URI itself. */
  signer?: LinkSigner;
}

/**
 * Streams a run's manifest from storage to `out`, filtered by status: JSON lines exactly as
 * stored, or CSV for spreadsheets (RFC 4180, every cell neutralised against formula injection).
 * Returns the number of lines written, the CSV header not counted. Memory: one line at a time,
 * and `out`'s backpressure is honoured, so a manifest of a million items exports in constant
 * memory.
 */
export async function exportManifest(store: ObjectStore, runId: string, out: Writable, options: ExportOptions): Promise<number> {
  const input = await store.getStream(runObjectKeys(runId).manifest);
  if (!input) {
    throw new BunchError('E_NOT_FOUND', `run ${runId} has no manifest in ${store.url} yet (the manifest is written when the run ends)`);
  }
  // A write error (a full disk, a closed pipe) may come while no write is waiting: keep it.
  let failure: Error | undefined;
  const onError = (error: Error) => void (failure ??= error);
  out.on('error', onError);
  const write = async (text: string) => {
    if (failure) throw failure;
    if (!out.write(text)) await once(out, 'drain');
  };
  let count = 0;
  try {
    if (options.format === 'csv') await write(csvLine(CSV_COLUMNS));
    for await (const text of readLines(input)) {
      const line = parseLine(text, runId, count);
      if (options.statuses && !options.statuses.has(line.status)) continue;
      count += 1;
      await write(options.format === 'csv' ? csvLine(await csvCells(line, options.signer)) : text + '\n');
    }
  } finally {
    out.off('error', onError);
    input.destroy();
  }
  if (failure) throw failure;
  return count;
}

function parseLine(text: string, runId: string, index: number): ManifestLine {
  try {
    return JSON.parse(text) as ManifestLine;
  } catch (error) {
    throw new BunchError('E_STORAGE', `the manifest of run ${runId} is not JSON lines after line ${index} (damaged object?)`, { cause: error });
  }
}

/** The CSV cells of one manifest line, in CSV_COLUMNS order, each made safe for spreadsheets. */
async function csvCells(line: ManifestLine, signer: LinkSigner | undefined): Promise<string[]> {
  const item = line.status === 'rejected' ? undefined : line;
  const image = item?.image?.uri ?? '';
  const cells: Record<CsvColumn, string> = {
    key: line.key ?? '',
    variant: item?.variant ?? '',
    itemKey: item?.itemKey ?? '',
    status: line.status,
    errorCode: line.errorCode ?? '',
    errorMessage: line.errorMessage ?? '',
    lane: item?.lane ?? '',
    attempts: item ? String(item.attempts) : '',
    costUsd: item ? String(item.costUsd) : '',
    image,
    imageLink: image && signer ? await signer.linkFor(image) : image,
    caption: item?.caption?.text ?? '',
    warnings: item?.warnings?.join('; ') ?? '',
    rowNumber: String(line.rowNumber),
    runId: line.runId,
  };
  return CSV_COLUMNS.map((column) => neutralizeCell(cells[column]));
}
