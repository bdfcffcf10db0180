import { BunchError, formatLocation } from '../errors/bunch-error.js';

/** `E_CATALOG_FILE`: the catalog as a whole cannot be read (missing, unreadable, structurally broken). */
export function catalogFileError(file: string, message: string, options: { line?: number; cause?: unknown } = {}): BunchError {
  const location = options.line === undefined ? { file } : { file, line: options.line };
  return new BunchError('E_CATALOG_FILE', `${formatLocation(location)}: ${message}`, {
    location,
    ...(options.cause !== undefined ? { cause: options.cause } : {}),
  });
}
