import type { StopReason } from '../runs/run-store.js';

/** What an item's record says when its run stopped before it was generated. */
export function stopMessage(reason: StopReason): string {
  switch (reason) {
    case 'E_CANCELLED':
      return 'the run was cancelled before this item was generated';
    case 'E_AUTH':
      return 'the run stopped because the API key was rejected';
    case 'E_PRECONDITION':
      return 'the run stopped because the API refused the project (FAILED_PRECONDITION: region or billing, or no credit left)';
    case 'E_MODEL_NOT_FOUND':
      return 'the run stopped because the model does not exist or is not available to this API key';
    case 'E_BUDGET':
      return 'the run stopped because its budget was spent';
    case 'E_PLANNER_GONE':
      return 'the run stopped because the process planning it died before this item was generated';
    default:
      return `the run stopped because its planning failed (${reason})`;
  }
}
