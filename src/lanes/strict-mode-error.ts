import type { RowRejection } from '../catalog/catalog-event.js';
import { BunchError } from '../errors/bunch-error.js';

/** What a `strict: true` job is refused with when `count` rows were rejected, `first` the first of them. */
export function strictModeError(count: number, first: RowRejection): BunchError {
  const where = `${first.file}:${first.line}${first.field ? ` field \`${first.field}\`` : ''}`;
  return new BunchError(first.code, `strict mode: ${count} catalog row(s) rejected; first at ${where}: ${first.reason}`, {
    location: { file: first.file, line: first.line, ...(first.field ? { field: first.field } : {}) },
  });
}
