import type { RunningEmulator } from '../../src/emulator/start-emulator.js';
import type { RequestLogEntry } from '../../src/emulator/request-log.js';

/**
 * Paid calls as the emulator saw them: generateContent requests answered 200. That includes
 * answers that were paid for but unusable (NO_IMAGE, IMAGE_SAFETY, bad base64, a body cut off in
 * transit); 429, 5xx, resets and hangs the client gave up on are not 200s. A hang may be billed by
 * the real API: `generatedImages` (images the emulator rendered, delivered or not) is the
 * conservative count for calls lost with a killed process.
 */
export function paidCalls(emulator: RunningEmulator): number {
  return emulator.requestLog.count({ route: 'generateContent', status: 200 });
}

export function paidCallEntries(emulator: RunningEmulator): RequestLogEntry[] {
  return emulator.requestLog.list({ route: 'generateContent', status: 200 });
}

export function generatedImages(emulator: RunningEmulator): number {
  return emulator.requestLog.stats().generations.total;
}

export function callsInFlight(emulator: RunningEmulator): number {
  return emulator.requestLog.inFlight({ route: 'generateContent' }).length;
}
