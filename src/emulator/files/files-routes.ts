import type { EmulatorContext } from '../emulator-context.js';
import type { Route } from '../route.js';

/** Files API routes. (Stub: the Files/Batch engineer fills this in.) */
export function createFilesRoutes(_context: EmulatorContext): Route[] {
  return [];
}
