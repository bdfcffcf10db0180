import { BunchError, formatLocation } from '../errors/bunch-error.js';
import { formatFieldPath, type FieldPath, type JobSource } from './job-source.js';

/** `E_JOB_FILE` naming the file, the line when known, and the field: `jobs/x.yaml:12 field \`a.b\`: why`. */
export function jobFileError(source: JobSource, path: FieldPath, message: string, cause?: unknown): BunchError {
  const line = path.length > 0 ? lineOfNearest(source, path) : undefined;
  const location = {
    file: source.file,
    ...(line !== undefined ? { line } : {}),
    ...(path.length > 0 ? { field: formatFieldPath(path) } : {}),
  };
  return new BunchError('E_JOB_FILE', `${formatLocation(location)}: ${message}`, {
    location,
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** A missing field has no line; its closest present parent does. */
function lineOfNearest(source: JobSource, path: FieldPath): number | undefined {
  if (!source.lineOf) return undefined;
  for (let length = path.length; length > 0; length--) {
    const line = source.lineOf(path.slice(0, length));
    if (line !== undefined) return line;
  }
  return undefined;
}
