import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { BunchError } from '../errors/bunch-error.js';
import type { ManifestLine } from '../manifest/manifest-line.js';
import { runObjectKeys } from '../runs/run-keys.js';
import type { ObjectStore } from '../storage/object-store.js';
import { neutralizeCell } from './neutralize-cell.js';
import type { LinkSigner } from './presign-link.js';

export const EXPORT_STATUSES = ['succeeded', 'failed', 'skipped', 'cancelled', 'rejected'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

export const CSV_COLUMNS = [
  'key', 'variant', 'itemKey', 'status', 'errorCode', 'errorMessage', 'lane', 'attempts', 'costUsd',
  'image', 'imageLink', 'caption', 'warnings', 'rowNumber', 'runId',
] as const;

export interface ExportOptions {
  format: 'jsonl' | 'csv';
  statuses?: ReadonlySet<string>;
  /** Presigned HTTPS links for s3:// images (CSV `imageLink`); absent: the image URI. */
  signer?: LinkSigner;
}

/**
 * Streams a run's manifest from storage to `out`, filtered by status, as JSON lines or as CSV for
 * spreadsheets (RFC 4180 by csv-stringify, every cell neutralised against formula injection).
 * Returns the number of lines written. Memory: one line at a time.
 */
export async function exportManifest(store: ObjectStore, runId: string, out: Writable, options: ExportOptions): Promise<number> {
  const input = await store.getStream(runObjectKeys(runId).manifest);
  if (!input) throw new BunchError('E_NOT_FOUND', `run ${runId} has no manifest yet (it has not ended, or its output location is elsewhere)`);
  const csv = options.format === 'csv' ? stringify({ header: true, columns: [...CSV_COLUMNS] }) : undefined;
  const finished = csv ? pipeTo(csv, out) : Promise.resolve();
  let count = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    if (!text) continue;
    const line = JSON.parse(text) as ManifestLine;
    if (options.statuses && !options.statuses.has(line.status)) continue;
    count += 1;
    if (!csv) {
      if (!out.write(text + '\n')) await new Promise((resolve) => out.once('drain', resolve));
      continue;
    }
    const row = await csvRow(line, options.signer);
    if (!csv.write(row)) await new Promise((resolve) => csv.once('drain', resolve));
  }
  csv?.end();
  await finished;
  return count;
}

async function csvRow(line: ManifestLine, signer: LinkSigner | undefined): Promise<Record<string, string>> {
  const item = line.status === 'rejected' ? undefined : line;
  const image = item?.image?.uri ?? '';
  const cells: Record<(typeof CSV_COLUMNS)[number], string> = {
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
  return Object.fromEntries(Object.entries(cells).map(([name, value]) => [name, neutralizeCell(value)]));
}

function pipeTo(csv: ReturnType<typeof stringify>, out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    csv.on('error', reject);
    csv.on('end', resolve);
    csv.on('data', (chunk: Buffer | string) => {
      if (!out.write(chunk)) {
        csv.pause();
        out.once('drain', () => csv.resume());
      }
    });
  });
}
