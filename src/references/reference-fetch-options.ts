/**
 * Limits and address policy for fetching reference images named by catalogs and job files.
 * Resolved once from the job file (`references:`) and the entry point's environment; the
 * fetchers only read them.
 */
export interface ReferenceFetchLimits {
  /** Bytes read from one location before it is refused (counted as the body streams, never trusted from Content-Length). */
  readonly maxBytes: number;
  /** Time to establish a TCP (and TLS) connection to one hop. */
  readonly connectTimeoutMs: number;
  /** Time for one location as a whole: every redirect hop and the full body. */
  readonly timeoutMs: number;
  /** Redirect hops followed; one more is refused. */
  readonly maxRedirects: number;
}

export interface AddressPolicy {
  /**
   * Exceptions to the private-address guard, as an operator writes them: host names (matched
   * exactly, case-insensitively, a trailing dot ignored), IP addresses, or CIDR ranges
   * (`10.1.0.0/16`). A named host may resolve to any address; an address or range allows
   * connections to addresses inside it, whatever host name led there.
   */
  readonly allowHosts: readonly string[];
  /** Every address allowed (`BUNCH_REFERENCES_ALLOW_PRIVATE=1`, meant for tests and local demos). */
  readonly allowPrivate: boolean;
}

export const DEFAULT_REFERENCE_FETCH_LIMITS: ReferenceFetchLimits = Object.freeze({
  maxBytes: 20 * 1024 * 1024,
  connectTimeoutMs: 5_000,
  timeoutMs: 30_000,
  maxRedirects: 5,
});

/**
 * Why a reference was refused: stable words that appear in `E_REFERENCE` messages and in the
 * `reason` of the BunchError, so tests and operators can tell the cases apart.
 */
export type ReferenceFailureReason =
  | 'bad-location'
  | 'blocked-address'
  | 'not-found'
  | 'http-status'
  | 'too-many-redirects'
  | 'too-large'
  | 'timeout'
  | 'network'
  | 'unsupported-type'
  | 'undecodable'
  | 'too-many-pixels';
