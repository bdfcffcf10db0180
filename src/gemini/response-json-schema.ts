import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * JSON Schemas sent as `responseJsonSchema` are compiled with Ajv (the reference JSON Schema
 * validator; draft 2020-12, the dialect the API takes) to check them when a job is read and the
 * answers when they arrive. Compiled validators are cached per schema text.
 */
const ajv = new Ajv2020({ strict: false, allErrors: false });
const compiled = new Map<string, ValidateFunction>();

export function jsonSchemaValidator(schema: object): ValidateFunction {
  const text = JSON.stringify(schema);
  let validate = compiled.get(text);
  if (!validate) {
    validate = ajv.compile(schema);
    if (compiled.size > 100) compiled.clear();
    compiled.set(text, validate);
  }
  return validate;
}

/** Why a schema cannot be used, or undefined when it compiles. */
export function jsonSchemaProblem(schema: unknown): string | undefined {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return 'must be an object';
  try {
    jsonSchemaValidator(schema);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
