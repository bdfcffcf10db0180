/**
 * Promise.all that waits for every promise before it fails: when one write fails, none of the
 * others is still running when the caller cleans up, retries or reports. Throws the first
 * rejection (in the order given); otherwise returns the values.
 */
export async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const outcomes = await Promise.allSettled(promises);
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
}
