import type { ReferenceRole } from './resolved-references.js';

/** A stored, normalised reference image: what the request, the inputHash and the manifest know of it. */
export interface StoredReference {
  sha256: string;
  mimeType: string;
  bytes: number;
  width: number;
  height: number;
}

/** One reference of one item, as listed in its job data and manifest line. `source` never has a query string. */
export interface ItemReference extends StoredReference {
  source: string;
  role: ReferenceRole;
}
