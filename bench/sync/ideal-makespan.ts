/**
 * How long C slots with zero overhead would take to serve calls of exactly these durations, taken
 * in this order (each call starts the moment a slot frees up). Whole-run throughput divided by
 * items / this makespan isolates the orchestrator's own cost from the ramp-up and the tail that
 * any closed loop of C callers pays.
 */
export function idealMakespanSeconds(durationsSeconds: readonly number[], concurrency: number): number {
  const freeAt = new Array<number>(Math.max(1, concurrency)).fill(0);
  let makespan = 0;
  for (const duration of durationsSeconds) {
    let slot = 0;
    for (let i = 1; i < freeAt.length; i += 1) if ((freeAt[i] as number) < (freeAt[slot] as number)) slot = i;
    const end = (freeAt[slot] as number) + duration;
    freeAt[slot] = end;
    makespan = Math.max(makespan, end);
  }
  return makespan;
}
