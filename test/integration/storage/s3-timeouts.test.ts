import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { s3OptionsFromEnv } from '../../../src/storage/s3-options-from-env.js';

/** An "S3 endpoint" that accepts connections and never answers: a stalled store. */
let server: Server;
let port: number;
const sockets = new Set<Socket>();
beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

describe('S3 requests have timeouts', () => {
  it('a store that never answers fails with a retryable E_STORAGE instead of hanging', async () => {
    const settings = {
      ...s3OptionsFromEnv({ BUNCH_S3_ENDPOINT: `http://127.0.0.1:${port}`, BUNCH_S3_FORCE_PATH_STYLE: 'true', BUNCH_S3_REQUEST_TIMEOUT_MS: '300' }),
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    expect(settings.requestTimeoutMs).toBe(300);
    const store = openObjectStore('s3://stalled/prefix', { s3: settings });
    const askedAt = Date.now();
    try {
      const outcome = await Promise.race([
        store.get('some/key').then(
          () => 'answered',
          (error: unknown) => error,
        ),
        new Promise((resolve) => setTimeout(() => resolve('still hanging after 20 s'), 20_000)),
      ]);
      expect(outcome).toMatchObject({ code: 'E_STORAGE', retryable: true });
      // The SDK's own 3 attempts of 300 ms each, plus its short backoff: bounded by the setting.
      expect(Date.now() - askedAt).toBeLessThan(5000);
      expect((outcome as Error).message).toMatch(/^S3 get of s3:\/\/stalled\/prefix\/some\/key failed: TimeoutError/);
    } finally {
      await store.close();
    }
  });

  it('refuses a timeout that is not a number of milliseconds', () => {
    expect(() => s3OptionsFromEnv({ BUNCH_S3_CONNECT_TIMEOUT_MS: '5s' })).toThrow(
      'BUNCH_S3_CONNECT_TIMEOUT_MS must be a whole number of milliseconds from 100 to 3600000, got "5s"',
    );
  });
});
