/**
 * Secrets never live in job files: job files are committed, copied and printed. API keys and
 * storage credentials come from the environment. This finds the first member whose name looks
 * like a secret, so the operator gets a clear message instead of "unknown field".
 */
import type { FieldPath } from './job-source.js';

const SECRET_NAME = /api[_-]?key|secret|passw(or)?d|credential|access[_-]?key|auth[_-]?token|bearer|private[_-]?key/i;
/** A member that names the environment variable holding a secret (`secretEnv`) is how it should be. */
const NAMES_A_VARIABLE = /Env$/;

export function findSecretField(value: unknown, path: FieldPath = []): FieldPath | undefined {
  if (Array.isArray(value)) {
    for (const [index, element] of value.entries()) {
      const found = findSecretField(element, [...path, index]);
      if (found) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [name, member] of Object.entries(value)) {
    if (SECRET_NAME.test(name) && !(NAMES_A_VARIABLE.test(name) && typeof member === 'string')) return [...path, name];
    // Catalog column names are data, not settings.
    if (path.length === 1 && path[0] === 'catalog' && name === 'columns') continue;
    const found = findSecretField(member, [...path, name]);
    if (found) return found;
  }
  return undefined;
}
