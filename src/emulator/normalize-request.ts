/**
 * proto3 JSON parsers accept both the lowerCamelCase JSON name and the original snake_case proto
 * name of every field, and Google's own samples mix them (`inline_data`, `generation_config`).
 * This turns every key into camelCase, except inside free-form values (Struct fields such as
 * function arguments, JSON schemas, labels, metadata) whose keys belong to the caller.
 */
const FREE_FORM_KEYS: ReadonlySet<string> = new Set([
  'args',
  'response',
  'responseSchema',
  'responseJsonSchema',
  '_responseJsonSchema',
  'parameters',
  'parametersJsonSchema',
  'labels',
  'partMetadata',
  'metadata',
]);

export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

export function normalizeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => normalizeKeys(item));
  if (value === null || typeof value !== 'object') return value;
  const result: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    // `_responseJsonSchema` is a real json_name with a leading underscore: keep it as is.
    const camel = key.startsWith('_') ? key : snakeToCamel(key);
    result[camel] = FREE_FORM_KEYS.has(camel) ? inner : normalizeKeys(inner);
  }
  return result;
}
