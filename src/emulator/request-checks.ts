import { GoogleApiError } from './google-error.js';

/**
 * The API's 400s about a request's shape, shared by the parts of request validation: the
 * INVALID_ARGUMENT envelope with an optional BadRequest field violation, the "Unknown name"
 * message for fields a message type does not have, and "expected an object".
 */
export function invalid(message: string, field?: string): GoogleApiError {
  const details =
    field === undefined
      ? []
      : [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field, description: message }] }];
  return new GoogleApiError(400, 'INVALID_ARGUMENT', message, details);
}

export function checkFields(object: Record<string, unknown>, known: ReadonlySet<string>, where: string): void {
  for (const key of Object.keys(object)) {
    if (known.has(key)) continue;
    const name = key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
    const message =
      where === ''
        ? `Invalid JSON payload received. Unknown name "${name}": Cannot find field.`
        : `Invalid JSON payload received. Unknown name "${name}" at '${where}': Cannot find field.`;
    throw invalid(message, where);
  }
}

export function asObject(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`Invalid JSON payload received. Invalid value at '${where}': expected an object.`, where);
  }
  return value as Record<string, unknown>;
}
