/**
 * Everything a lane needs to execute and store one item, minus the request body. It is what
 * planning computed and what travels (with the request) in a BullMQ job or a batch shard index.
 */
export interface ItemTarget {
  index: number;
  itemKey: string;
  rowKey: string;
  variant: string;
  rowNumber: number;
  model: string;
  inputHash: string;
  /** Rendered object key with a literal `{{ext}}` left for the image's real type. */
  objectKey: string;
  captionKey: string;
  /** Deterministic "done" record for this (item, inputHash): the commit point of an item's outputs. */
  markerKey: string;
  expected?: { width: number; height: number };
}
