import { compileTemplate } from './render-template.js';
import { RESERVED_KEY_PREFIX } from '../storage/reserved-key-prefix.js';

export const DEFAULT_OBJECT_KEY_TEMPLATE = '{{key}}/{{variant}}-{{hash}}.{{ext}}';

/**
 * Returns why an `output.key` template is unusable, or undefined. Syntax errors throw (E_JOB_FILE).
 *
 * Rules, and why:
 * - `{{ext}}` is required: the image and its caption (`.txt`) must get different keys, and the
 *   worker only learns the image type (png/jpeg) from the bytes.
 * - The row key (`{{key}}` or the key column's own placeholder) must fill a whole path segment
 *   (optionally followed by `.{{ext}}`). Row keys are unique and, once encoded, never contain `/`,
 *   so a whole segment makes every row's keys distinct. Inside a segment ("{{key}}-{{variant}}")
 *   it would not: key "a-b" + variant "c" and key "a" + variant "b-c" both give "a-b-c".
 * - With more than one variant, `{{variant}}` is required so variants of a row do not overwrite
 *   each other (the planner also checks that per row).
 * - The literal text must be a safe relative path, and must not write into bunch's own prefixes.
 */
export function checkObjectKeyTemplate(template: string, keyField: string, variantCount: number): string | undefined {
  const compiled = compileTemplate(template);
  if (!compiled.fields.includes('ext')) return 'must contain {{ext}} (images and captions need different keys)';
  const keyPlaceholders = new Set(['key', keyField]);
  const segments = template.split('/');
  const keySegment = segments.some((segment) => {
    const parts = compileTemplate(segment).parts;
    const first = parts[0];
    if (first?.kind !== 'field' || !keyPlaceholders.has(first.name)) return false;
    if (parts.length === 1) return true;
    const [, dot, ext] = parts;
    return parts.length === 3 && dot?.kind === 'text' && dot.text === '.' && ext?.kind === 'field' && ext.name === 'ext';
  });
  if (!keySegment) {
    return `must contain {{key}} as a whole path segment, e.g. "${DEFAULT_OBJECT_KEY_TEMPLATE}", so that two rows never share a key`;
  }
  if (variantCount > 1 && !compiled.fields.includes('variant')) {
    return 'must contain {{variant}} when the job has more than one variant';
  }
  const skeleton = compiled.parts.map((part) => (part.kind === 'text' ? part.text : 'x')).join('');
  if (skeleton.startsWith('/')) return 'must be a relative path (no leading "/")';
  // eslint-disable-next-line no-control-regex
  if (skeleton.includes('\\') || /[\u0000-\u001f\u007f]/.test(skeleton)) {
    return 'must not contain backslashes or control characters';
  }
  if (skeleton.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return 'must not contain empty, "." or ".." path segments';
  }
  if (template.startsWith(RESERVED_KEY_PREFIX) || template.startsWith('runs/')) {
    return `must not start with "${RESERVED_KEY_PREFIX}" or "runs/" (reserved for bunch's records and manifests)`;
  }
  return undefined;
}
