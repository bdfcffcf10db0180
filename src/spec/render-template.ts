import { BunchError } from '../errors/bunch-error.js';

/**
 * `{{field}}` templates, used for prompts and object keys. Deliberately tiny: no escaping, no
 * expressions, no filters. An operator reads a job file and must be able to see what gets sent.
 * A placeholder name is anything between `{{` and `}}` except braces, trimmed, so catalog columns
 * with spaces ("Body (HTML)") work without a rename.
 */
export type TemplatePart = { kind: 'text'; text: string } | { kind: 'field'; name: string };

export interface CompiledTemplate {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
  /** Distinct placeholder names, in order of first use. */
  readonly fields: readonly string[];
}

/** Parses a template. Syntax errors throw `E_JOB_FILE` (templates live in job files); callers add the location. */
export function compileTemplate(source: string): CompiledTemplate {
  const parts: TemplatePart[] = [];
  const fields: string[] = [];
  let position = 0;
  while (position < source.length) {
    const open = source.indexOf('{{', position);
    if (open === -1) {
      parts.push({ kind: 'text', text: source.slice(position) });
      break;
    }
    if (open > position) parts.push({ kind: 'text', text: source.slice(position, open) });
    const close = source.indexOf('}}', open + 2);
    if (close === -1) {
      throw new BunchError('E_JOB_FILE', `unclosed "{{" at character ${open + 1} of the template`);
    }
    const inner = source.slice(open + 2, close);
    const name = inner.trim();
    if (name === '') throw new BunchError('E_JOB_FILE', `empty placeholder "{{}}" at character ${open + 1}`);
    if (/[{}]/.test(inner)) {
      throw new BunchError('E_JOB_FILE', `unclosed "{{" at character ${open + 1} of the template`);
    }
    parts.push({ kind: 'field', name });
    if (!fields.includes(name)) fields.push(name);
    position = close + 2;
  }
  return Object.freeze({ source, parts: Object.freeze(parts), fields: Object.freeze(fields) });
}

/**
 * Fills a template. A placeholder whose value is missing or blank throws `E_CATALOG_ROW` with
 * `location.field` set: a row that cannot produce its prompt is a bad row, not a bad job.
 */
export function renderTemplate(
  template: string | CompiledTemplate,
  fields: Readonly<Record<string, string>>,
): string {
  const compiled = typeof template === 'string' ? compileTemplate(template) : template;
  let text = '';
  for (const part of compiled.parts) {
    if (part.kind === 'text') {
      text += part.text;
      continue;
    }
    const value = Object.hasOwn(fields, part.name) ? fields[part.name] : undefined;
    if (value === undefined || value.trim() === '') {
      throw new BunchError(
        'E_CATALOG_ROW',
        `field \`${part.name}\` is ${value === undefined ? 'missing' : 'empty'} but the template uses {{${part.name}}}`,
        { location: { field: part.name } },
      );
    }
    text += value;
  }
  return text;
}
