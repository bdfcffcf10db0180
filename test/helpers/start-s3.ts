import { spawn, type ChildProcess } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { createS3Client } from '../../src/storage/create-s3-client.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../src/storage/s3-object-store.js';
import type { S3Settings } from '../../src/storage/s3-settings.js';
import { tempDir } from './temp-dir.js';

export interface S3Handle {
  /** e.g. `http://127.0.0.1:41234` */
  endpoint: string;
  bucket: string;
  /** Settings that reach this server (endpoint, path style, s3rver's fixed credentials). */
  settings: S3Settings;
  /** A client with `settings`, for tests that look at S3 directly. Destroyed by stop(). */
  client: S3Client;
  /** A store on this server's bucket under `prefix`; use a distinct prefix per test. */
  store(prefix: string, overrides?: Partial<S3ObjectStoreOptions>): ObjectStore;
  stop(): Promise<void>;
}

const BUCKET = 'bunch-test';
// s3rver accepts exactly these; they are public test values, not secrets.
const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const CHILD_READY_TIMEOUT_MS = 15_000;

/**
 * An s3rver on 127.0.0.1 (random port, own temp directory) with one bucket, `bunch-test`.
 *
 * s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers through
 * its legacy provider, and a provider can only be enabled when node starts. So: when this process
 * has it (node --openssl-legacy-provider, vitest `test.execArgv`, or NODE_OPTIONS), s3rver runs
 * in-process; otherwise it runs in a child node started with the flag. Same server either way.
 */
export async function startS3(): Promise<S3Handle> {
  const dir = await tempDir('s3');
  let server: RunningServer;
  try {
    server = openSslLegacyProviderLoaded() ? await runInProcess(dir.path) : await runInChild(dir.path);
  } catch (error) {
    await dir.remove();
    throw error;
  }
  const endpoint = `http://127.0.0.1:${server.port}`;
  const settings: S3Settings = {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    checksumMode: 'when_required',
    credentials: S3RVER_CREDENTIALS,
  };
  const client = createS3Client(settings);
  const stores: ObjectStore[] = [];
  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    bucket: BUCKET,
    settings,
    client,
    store(prefix, overrides = {}) {
      const store = new S3ObjectStore({ ...settings, bucket: BUCKET, prefix, ...overrides });
      stores.push(store);
      return store;
    },
    stop() {
      stopping ??= (async () => {
        await Promise.all(stores.map((store) => store.close()));
        client.destroy();
        await server.close();
        await dir.remove();
      })();
      return stopping;
    },
  };
}

/** Whether this node process can use DES, i.e. was started with the OpenSSL legacy provider. */
export function openSslLegacyProviderLoaded(): boolean {
  try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return true;
  } catch {
    return false;
  }
}

interface RunningServer {
  port: number;
  close(): Promise<void>;
}

async function runInProcess(directory: string): Promise<RunningServer> {
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const address = await server.run();
  return { port: address.port, close: () => server.close() };
}

async function runInChild(directory: string): Promise<RunningServer> {
  const script = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));
  // Only our flag: the parent's execArgv may hold test-runner loaders the child cannot use.
  const child = spawn(process.execPath, ['--openssl-legacy-provider', script, directory, BUCKET], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const port = await childPort(child);
  // If this process dies without stop(), the child sees its stdin close and stops itself.
  child.unref();
  for (const pipe of [child.stdin, child.stdout, child.stderr]) (pipe as unknown as { unref?: () => void }).unref?.();
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    port,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Resolves with the port the child prints once listening; rejects with its output if it dies. */
function childPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`s3rver child did not start within ${CHILD_READY_TIMEOUT_MS} ms:\n${stderr}`));
    }, CHILD_READY_TIMEOUT_MS);
    const settle = (): void => {
      clearTimeout(timer);
      child.removeAllListeners('close');
      child.removeAllListeners('error');
      child.stdout?.removeAllListeners('data');
      child.stderr?.removeAllListeners('data');
      child.stdout?.resume();
      child.stderr?.resume();
    };
    child.once('error', (error) => {
      settle();
      reject(error);
    });
    child.once('close', (code, signal) => {
      settle();
      reject(new Error(`s3rver child exited early (code ${code}, signal ${signal}):\n${stderr}`));
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline === -1) return;
      settle();
      const port = (JSON.parse(stdout.slice(0, newline)) as { port?: unknown }).port;
      if (typeof port === 'number') resolve(port);
      else reject(new Error(`s3rver child printed no port: ${stdout}`));
    });
  });
}

/** The environment the real CLI needs to reach this s3rver (and a stack's Redis), as an operator's shell would. */
export function s3CliEnv(s3: S3Handle, redis: { redisUrl: string; prefix: string }): Record<string, string> {
  return {
    REDIS_URL: redis.redisUrl,
    BUNCH_PREFIX: redis.prefix,
    BUNCH_S3_ENDPOINT: s3.endpoint,
    BUNCH_S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: s3.settings.credentials!.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.settings.credentials!.secretAccessKey,
    AWS_REGION: 'us-east-1',
  };
}
