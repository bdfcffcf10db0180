import type { CatalogRow } from '../catalog/catalog-event.js';
import { isBunchError } from '../errors/bunch-error.js';
import { renderTemplate, type CompiledTemplate } from '../spec/render-template.js';
import type { ReferenceRole, ResolvedReferences } from '../references/resolved-references.js';
import { parseReferenceLocation, splitReferenceCell, type ReferenceLocation } from '../references/reference-location.js';

/** One location a row names, with the role and where it came from (for messages). */
export interface RowReferenceLocation {
  location: ReferenceLocation;
  role: ReferenceRole;
  /** The column or `template` it came from. */
  field: string;
  /** Group photos fill the room left by the row's own; they are dropped, not an error, past the model's limit. */
  fromGroup: boolean;
}

export type RowLocationsResult = { ok: true; locations: RowReferenceLocation[] } | { ok: false; field: string; reason: string };

/**
 * The reference locations a row names, in source order, each location once (the first source that
 * names it gives its role). Pure: nothing is fetched here. A location that cannot be parsed, or a
 * template that cannot be filled, rejects the row.
 */
export function rowReferenceLocations(
  row: CatalogRow,
  settings: ResolvedReferences,
  templates: ReadonlyMap<number, CompiledTemplate>,
): RowLocationsResult {
  const seen = new Set<string>();
  const locations: RowReferenceLocation[] = [];
  for (const [index, source] of settings.sources.entries()) {
    let cells: readonly string[];
    const field = source.column ?? 'template';
    if (source.template !== undefined) {
      const template = templates.get(index);
      if (!template) continue;
      try {
        cells = [renderTemplate(template, { ...row.fields, key: row.key })];
      } catch (error) {
        if (!isBunchError(error)) throw error;
        return { ok: false, field: error.location?.field ?? field, reason: `reference template: ${error.message}` };
      }
    } else if (source.scope === 'group') {
      cells = row.groupValues?.[field] ?? (row.fields[field] ? [row.fields[field]] : []);
    } else {
      const cell = Object.hasOwn(row.fields, field) ? row.fields[field] : undefined;
      cells = cell ? [cell] : [];
    }
    for (const cell of cells) {
      for (const text of splitReferenceCell(cell)) {
        const parsed = parseReferenceLocation(text, settings.baseDir);
        if ('error' in parsed) return { ok: false, field, reason: `reference ${parsed.error}` };
        if (seen.has(parsed.identity)) continue;
        seen.add(parsed.identity);
        locations.push({ location: parsed, role: source.role, field, fromGroup: source.scope === 'group' });
      }
    }
  }
  return { ok: true, locations };
}
