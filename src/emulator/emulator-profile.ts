import { readFile } from 'node:fs/promises';
import { BunchError } from '../errors/bunch-error.js';
import { parseKnobsInput, type KnobsInput } from './knobs.js';

/**
 * A profile is a JSON file holding knobs (see knobs.ts) plus an optional `batch` object with the
 * Batch API timing knobs, e.g. `{"latency":{"kind":"lognormal","p50Ms":8000,"p99Ms":30000},
 * "faultRates":{"503":0.02},"batch":{"pendingMs":1000}}`.
 */
export interface EmulatorProfile extends KnobsInput {
  batch?: unknown;
}

/** Validates a profile object; `source` names it in error messages. */
export function parseEmulatorProfile(raw: unknown, source = 'profile'): EmulatorProfile {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BunchError('E_CONFIG', `${source}: an emulator profile must be a JSON object`);
  }
  const { batch, ...knobs } = raw as Record<string, unknown>;
  try {
    return { ...parseKnobsInput(knobs), ...(batch === undefined ? {} : { batch }) };
  } catch (error) {
    throw new BunchError('E_CONFIG', `${source}: invalid emulator knobs: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

export async function loadEmulatorProfile(path: string): Promise<EmulatorProfile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new BunchError('E_CONFIG', `${path}: cannot read emulator profile`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new BunchError('E_CONFIG', `${path}: emulator profile is not valid JSON`, { cause: error });
  }
  return parseEmulatorProfile(raw, path);
}
