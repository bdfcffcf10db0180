import type { RowRejection } from '../catalog/catalog-event.js';
import { BunchError } from '../errors/bunch-error.js';
import { redactSecrets } from '../errors/redact-secrets.js';

/** What a `strict: true` job is refused with when `count` rows were rejected, `first` the first of them. */
export function strictModeError(count: number, first: RowRejection): BunchError {
  const where = `${first.file}:${first.line}${first.field ? ` field \`${first.field}\`` : ''}`;
  // The reason may quote the row's own cell (a reference URL with a signed query); this error goes
  // to logs, a schedule's firing record and the console, not only to a redacting stderr.
  return new BunchError(first.code, `strict mode: ${count} catalog row(s) rejected; first at ${where}: ${redactSecrets(first.reason)}`, {
    location: { file: first.file, line: first.line, ...(first.field ? { field: first.field } : {}) },
  });
}
