import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeForError } from '../../../src/cli/exit-codes.js';

describe('exitCodeForError', () => {
  it('a refused key, model or project is configuration (2); a gateway in the way and outages are infrastructure (3)', () => {
    expect(['E_AUTH', 'E_MODEL_NOT_FOUND', 'E_PRECONDITION', 'E_JOB_FILE'].map((code) => exitCodeForError(code as never))).toEqual([
      EXIT.badInput,
      EXIT.badInput,
      EXIT.badInput,
      EXIT.badInput,
    ]);
    expect(['E_GATEWAY_BLOCKED', 'E_NETWORK', 'E_STORAGE'].map((code) => exitCodeForError(code as never))).toEqual([3, 3, 3]);
  });
});
