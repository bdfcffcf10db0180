import type { PlannedItem } from '../plan/planned-item.js';

/**
 * Everything a lane needs to execute and store one item, minus the request body: what planning
 * computed, travelling in a BullMQ job or a batch shard's targets file.
 */
export type ItemTarget = Omit<PlannedItem, 'request'>;
