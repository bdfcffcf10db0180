import type { RunQueues } from '../../src/lanes/run-queues.js';
import type { RunStore } from '../../src/runs/run-store.js';

export interface FreezeAt {
  /** Freeze right before the first call of this RunStore method. */
  before?: keyof RunStore;
  /** Freeze right after this many `addBulk` calls on the generate queue have completed. */
  afterAddBulks?: number;
}

/**
 * A planner's view of the run store and the queues that freezes like a SIGSTOPped or SIGKILLed
 * process at a chosen point: from then on every call it makes through them (its lease renewals
 * included) waits on a gate that thaw() opens. Redis, the queues and every other process are real
 * and go on; only this planner stops.
 */
export function freezablePlanner(runs: RunStore, queues: RunQueues, at: FreezeAt) {
  let frozen = false;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let addBulks = 0;
  const gated = <T extends object>(target: T, onCall: (name: string) => void, after: (name: string) => void): T =>
    new Proxy(target, {
      get(object, prop, receiver) {
        const value = Reflect.get(object, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          onCall(String(prop));
          if (frozen) return gate.then(() => (value as (...a: unknown[]) => unknown).apply(object, args));
          const result = (value as (...a: unknown[]) => unknown).apply(object, args);
          return result instanceof Promise ? result.then((answer) => (after(String(prop)), answer)) : result;
        };
      },
    });
  const frozenRuns = gated(runs, (name) => name === at.before && (frozen = true), () => undefined);
  const generate = gated(queues.generate, () => undefined, (name) => {
    if (name === 'addBulk' && ++addBulks === at.afterAddBulks) frozen = true;
  });
  return {
    runs: frozenRuns,
    queues: { ...queues, generate } as RunQueues,
    thaw: () => release(),
    isFrozen: () => frozen,
  };
}
