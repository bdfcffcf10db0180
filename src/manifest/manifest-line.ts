/**
 * One line of `runs/<runId>/manifest.jsonl`. Versioned: readers check `schemaVersion` and ignore
 * fields they do not know. Items carry an ItemRecord; catalog rows rejected before planning
 * carry `status: "rejected"` and where the problem is.
 */
import type { ItemRecord } from '../runs/item-record.js';

export const MANIFEST_SCHEMA_VERSION = 1;

export type ManifestItemLine = { schemaVersion: 1; runId: string } & ItemRecord;

export interface ManifestRejectedLine {
  schemaVersion: 1;
  runId: string;
  status: 'rejected';
  key?: string;
  rowNumber: number;
  line: number;
  file: string;
  field?: string;
  errorCode: 'E_CATALOG_ROW' | 'E_REFERENCE' | 'E_CONTEXT_LIMIT';
  errorMessage: string;
  /** E_REFERENCE: why the reference could not be used, as a stable tag (`not-found`, `blocked-address`, `timeout`, …). */
  errorReason?: string;
}

export type ManifestLine = ManifestItemLine | ManifestRejectedLine;
