import { plannerGone, type RunMeta } from './run-store.js';

/** What `status` and the console's run page add to the item count of a run not planned yet: still planning, or never to finish. */
export function planningNote(meta: RunMeta, now: Date): string {
  if (meta.planned) return '';
  if (plannerGone(meta, now.getTime())) {
    return ` (planning stopped: its planner is gone since ${new Date(meta.plannerUntil as number).toISOString()}; the worker fleet ends the run with the items it had handed out)`;
  }
  return ' (still planning)';
}
