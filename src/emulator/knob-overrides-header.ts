import type { IncomingMessage } from 'node:http';
import { GoogleApiError } from './google-error.js';
import { parseKnobsInput, type KnobsInput } from './knobs.js';

/** Name of the header carrying per-request knob overrides as JSON, e.g. `{"latency":{"kind":"fixed","ms":500}}`. */
export const KNOBS_HEADER = 'x-emulator-knobs';

/** Parses the per-request override header; a bad value is the caller's bug → 400. */
export function readKnobOverrides(req: IncomingMessage): KnobsInput | undefined {
  const raw = req.headers[KNOBS_HEADER];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || text === '') return undefined;
  try {
    return parseKnobsInput(JSON.parse(text));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new GoogleApiError(400, 'INVALID_ARGUMENT', `Invalid ${KNOBS_HEADER} header: ${reason}`);
  }
}
