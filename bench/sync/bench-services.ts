import { randomBytes } from 'node:crypto';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/start-emulator.js';
import { startPrivateRedis, type RedisHandle } from '../../src/local/start-private-redis.js';
import { tempDir, type TempDir } from '../../src/local/temp-dir.js';

/**
 * What every part of the sync benchmark shares: one private redis-server (free port, no
 * persistence), one emulator over HTTP, one temp dir for catalogs, job files and file:// output.
 * Parts are told apart by key prefix and sub-directory, never by separate services, so the
 * comparisons run against the same Redis and the same emulator.
 */
export interface BenchServices {
  redis: RedisHandle;
  emulator: RunningEmulator;
  dir: TempDir;
  /** A fresh key prefix, so no part ever sees another part's queues or runs. */
  newPrefix(label: string): string;
  stop(): Promise<void>;
}

export async function startBenchServices(emulator: EmulatorOptions = {}): Promise<BenchServices> {
  const redis = await startPrivateRedis();
  const dir = await tempDir('bench-sync');
  let running: RunningEmulator;
  try {
    running = await startEmulator(emulator);
  } catch (error) {
    await redis.stop();
    await dir.remove();
    throw error;
  }
  return {
    redis,
    emulator: running,
    dir,
    newPrefix: (label) => `b${label}${randomBytes(3).toString('hex')}`,
    async stop() {
      await running.close();
      await redis.stop();
      await dir.remove();
    },
  };
}
