import type { ReferenceFetchLimits } from './reference-fetch-options.js';

/** What a reference image is to the model; object and style images share the model's object limit. */
export type ReferenceRole = 'object' | 'character' | 'style';

export interface ResolvedReferenceSource {
  /** Exactly one of column and template is set. */
  readonly column: string | undefined;
  readonly template: string | undefined;
  readonly role: ReferenceRole;
  /** `group`: every value of the column across the row's `forwardFillBy` group, image-only rows included. */
  readonly scope: 'row' | 'group';
}

export interface ResolvedReferences {
  readonly sources: readonly ResolvedReferenceSource[];
  readonly limits: ReferenceFetchLimits;
  /** Images are scaled down to this longest side before sending; undefined keeps their size. */
  readonly longestSide: number | undefined;
  /** Locations fetched at once while planning. */
  readonly concurrency: number;
  /** Exceptions to the private-address guard (see AddressPolicy). */
  readonly allowHosts: readonly string[];
  /** Where relative paths and `file://` references resolve, and the only tree they may name: the catalog's directory. */
  readonly baseDir: string;
}
