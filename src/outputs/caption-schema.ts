import { BunchError } from '../errors/bunch-error.js';
import { jsonSchemaValidator } from '../gemini/response-json-schema.js';

/**
 * Structured captions: the job's JSON Schema is sent as `responseJsonSchema`, and every answer is
 * checked against it on arrival. The answer was paid for, so E_BAD_CAPTION is asked again only a
 * bounded number of times (see the generate processor).
 */
export function parseStructuredCaption(text: string, schema: object): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BunchError('E_BAD_CAPTION', `the caption is not JSON: ${(error as Error).message}`.slice(0, 300));
  }
  const validate = jsonSchemaValidator(schema);
  if (!validate(value)) {
    const first = validate.errors?.[0];
    const where = first?.instancePath ? first.instancePath : '(root)';
    throw new BunchError('E_BAD_CAPTION', `the caption does not match caption.schema at ${where}: ${first?.message ?? 'invalid'}`.slice(0, 300));
  }
  return value;
}
