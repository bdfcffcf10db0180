import type { RowRejection } from '../catalog/catalog-event.js';
import type { ManifestRejectedLine } from './manifest-line.js';
import { redactSecrets } from '../errors/redact-secrets.js';

/** The manifest line of a catalog row rejected at planning (kept in `rejected.jsonl` until finalize). */
export function rejectedLine(runId: string, rejection: RowRejection): ManifestRejectedLine {
  const line: ManifestRejectedLine = {
    schemaVersion: 1,
    runId,
    status: 'rejected',
    rowNumber: rejection.rowNumber,
    line: rejection.line,
    file: rejection.file,
    errorCode: rejection.code,
    // A row's own cell is quoted back in its reason (a reference URL with user:password or a signed query).
    errorMessage: redactSecrets(rejection.reason),
  };
  if (rejection.key !== undefined) line.key = rejection.key;
  if (rejection.field !== undefined) line.field = rejection.field;
  if (rejection.referenceFailure !== undefined) line.errorReason = rejection.referenceFailure;
  return line;
}
