/**
 * Catalog fields are text (they end up in prompts and keys). JSON scalars become their usual
 * text, null becomes empty (so it counts as missing), and nested objects/arrays are kept as
 * JSON text rather than flattened.
 */
export function fieldValueText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}
