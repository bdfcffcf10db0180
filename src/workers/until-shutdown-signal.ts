/**
 * Resolves on the first SIGTERM or SIGINT, so a process can drain (BullMQ's `worker.close()`
 * waits for active jobs) before it exits. A second signal exits at once: in-flight items are
 * then recovered by another worker through BullMQ's stalled-job check.
 */
export function untilShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.once('SIGTERM', () => process.exit(143));
      process.once('SIGINT', () => process.exit(130));
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
