/**
 * Structured output: the JSON text the emulated model answers when a request sets
 * `responseMimeType: application/json` and a `responseJsonSchema`. It builds a value that
 * conforms to the schema (the subset image jobs use: type, properties, required, items, enum,
 * const, min/max lengths and items, minimum, anyOf/oneOf), with strings about the prompt's
 * subject. `broken` leaves out the first required property, as a model that strays from the
 * schema would (the `[[emu:bad-json]]` trigger), so the caller's check has something to catch.
 */
type Schema = Record<string, unknown>;

const MAX_DEPTH = 8;

export function jsonAnswerFor(schema: Schema, subject: string, broken: boolean): unknown {
  const value = valueFor(schema, subject, 'answer', 0);
  if (!broken) return value;
  const required = Array.isArray(schema['required']) ? schema['required'].filter((name): name is string => typeof name === 'string') : [];
  if (isRecord(value) && required[0] !== undefined) {
    const { [required[0]]: _dropped, ...rest } = value;
    return rest;
  }
  // Nothing required to leave out: answer with the wrong type altogether.
  return typeof value === 'string' ? 42 : 'not what the schema asked for';
}

function valueFor(schema: Schema, subject: string, name: string, depth: number): unknown {
  if ('const' in schema) return schema['const'];
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0];
  const choice = firstSchema(schema['anyOf']) ?? firstSchema(schema['oneOf']);
  if (choice) return valueFor(choice, subject, name, depth);
  switch (typeOf(schema)) {
    case 'object':
      return depth >= MAX_DEPTH ? {} : objectFor(schema, subject, depth);
    case 'array': {
      const items = isRecord(schema['items']) ? schema['items'] : { type: 'string' };
      const count = Math.min(Math.max(numberOr(schema['minItems'], 1), 1), numberOr(schema['maxItems'], 3));
      return depth >= MAX_DEPTH ? [] : Array.from({ length: count }, (_unused, index) => valueFor(items, subject, `${name} ${index + 1}`, depth + 1));
    }
    case 'boolean':
      return true;
    case 'integer':
    case 'number': {
      const minimum = numberOr(schema['minimum'], numberOr(schema['exclusiveMinimum'], -1) + 1);
      return Math.max(minimum, 0) <= numberOr(schema['maximum'], Number.POSITIVE_INFINITY) ? Math.max(minimum, 0) : minimum;
    }
    case 'null':
      return null;
    default:
      return stringFor(schema, subject, name);
  }
}

function objectFor(schema: Schema, subject: string, depth: number): Record<string, unknown> {
  const properties = isRecord(schema['properties']) ? schema['properties'] : {};
  const result: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(properties)) {
    if (isRecord(inner)) result[key] = valueFor(inner, subject, key, depth + 1);
  }
  return result;
}

function stringFor(schema: Schema, subject: string, name: string): string {
  if (schema['format'] === 'uri') return `https://example.com/${encodeURIComponent(name)}`;
  const words = name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
  let text = `${words}: ${subject}`;
  const minLength = numberOr(schema['minLength'], 0);
  while (text.length < minLength) text += ` ${subject || words}`;
  const maxLength = numberOr(schema['maxLength'], Number.POSITIVE_INFINITY);
  return text.length > maxLength ? text.slice(0, Math.max(minLength, maxLength)).trimEnd().padEnd(minLength, '.') : text;
}

function typeOf(schema: Schema): string | undefined {
  const type = schema['type'];
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.find((entry): entry is string => typeof entry === 'string' && entry !== 'null') ?? 'null';
  if (isRecord(schema['properties'])) return 'object';
  if (isRecord(schema['items'])) return 'array';
  return undefined;
}

function firstSchema(value: unknown): Schema | undefined {
  return Array.isArray(value) ? value.find(isRecord) : undefined;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function isRecord(value: unknown): value is Schema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
