/**
 * Objects bunch writes for its own bookkeeping (result markers, reference images) live under this
 * prefix of the output location; item object keys may not use it.
 */
export const RESERVED_KEY_PREFIX = '_bunch/';
