import type { EmulatorContext } from '../emulator-context.js';
import type { Route } from '../route.js';

/** Batch API routes. (Stub: the Files/Batch engineer fills this in.) */
export function createBatchRoutes(_context: EmulatorContext): Route[] {
  return [];
}
