import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { BunchError } from '../errors/bunch-error.js';
import { childStopper } from './child-stopper.js';
import { freePort } from './free-port.js';
import { tempDir, type TempDir } from './temp-dir.js';

export interface RedisHandle {
  url: string;
  port: number;
  /** The redis-server process id; undefined when the server was not started by us. */
  pid: number | undefined;
  /** Stops the server we started (SIGTERM, then waits for it to exit). */
  stop(): Promise<void>;
  /**
   * Outage drills: kills the server at once (SIGKILL, as a crash) and, after `downMs`, starts it
   * again on the same port and directory. With `durable`, its append-only file brings the data
   * back, as a production Redis with AOF would. Only for servers this process started.
   */
  crashAndRestart?(downMs: number): Promise<void>;
  /** Kills the server at once (SIGKILL, as a crash) and leaves it down. */
  crash?(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** AOF on with an fsync per write (for outage drills); default off, nothing kept on disk. */
  durable?: boolean;
  /** More redis-server arguments (cluster mode, replicaof, …), after bunch's own. */
  args?: string[];
  /** Serve TLS only (no plain port), with these PEM files; the URL is then rediss://. */
  tls?: { certFile: string; keyFile: string; caFile: string };
  /** Ports at or above this are not used (a cluster's bus listens on port + 10000). */
  portBelow?: number;
  /** Run `redis-server <config> --sentinel` with this config text (written to the temp dir). */
  sentinelConfig?: string;
}

const INSTALL_HINT =
  'redis-server was not found on PATH; it is needed to start a private Redis. Install it ' +
  '(Debian/Ubuntu: `apt-get install -y redis-server`, macOS: `brew install redis`).';
const ATTEMPTS = 5;
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * A private redis-server for one process: `bunch demo` and the tests. It runs on a free port of
 * 127.0.0.1 with persistence off, in its own temp dir, and is stopped by pid — it never touches
 * a server on the default port.
 */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<RedisHandle> {
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = await freePortBelow(options.portBelow);
    const dir = await tempDir('redis');
    try {
      const child = await spawnRedis(port, dir.path, options);
      if (!options.tls) await ping(port);
      return handleFor(child, port, dir, options);
    } catch (error) {
      await dir.remove();
      if (error instanceof PortTakenError) {
        lastError = error;
        continue; // someone grabbed the port between freePort() and bind: pick another
      }
      throw error;
    }
  }
  throw new Error(`could not start redis-server after ${ATTEMPTS} attempts`, { cause: lastError });
}

class PortTakenError extends Error {}

async function freePortBelow(limit: number | undefined): Promise<number> {
  for (let tries = 0; ; tries += 1) {
    const port = await freePort();
    if (limit === undefined || port < limit || tries > 200) return port;
  }
}

/** Spawns redis-server and resolves once it logs that it accepts connections. */
async function spawnRedis(port: number, dir: string, options: PrivateRedisOptions): Promise<ChildProcess> {
  const persistence = options.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const listen = options.tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile,
       '--tls-ca-cert-file', options.tls.caFile, '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  let args = [...listen, '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, ...(options.args ?? [])];
  if (options.sentinelConfig !== undefined) {
    const file = path.join(dir, 'sentinel.conf');
    await writeFile(file, `port ${port}\nbind 127.0.0.1\ndir ${dir}\n${options.sentinelConfig}\n`);
    args = [file, '--sentinel'];
  }
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not become ready within ${READY_TIMEOUT_MS} ms:\n${output}`));
    }, READY_TIMEOUT_MS);
    const settle = (): void => {
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      child.removeAllListeners('close');
      child.removeAllListeners('error');
      // Keep draining the pipes so a chatty server never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      settle();
      reject(error.code === 'ENOENT' ? new BunchError('E_CONFIG', INSTALL_HINT, { cause: error }) : error);
    });
    // 'close' (not 'exit') so that everything the server printed has been read.
    child.once('close', (code, signal) => {
      settle();
      if (/address already in use/i.test(output)) reject(new PortTakenError(output));
      else reject(new Error(`redis-server exited early (code ${code}, signal ${signal}):\n${output}`));
    });
    const onOutput = (chunk: Buffer): void => {
      output += chunk.toString();
      if (/ready to accept connections|\+monitor master/i.test(output)) {
        settle();
        // A caller that forgets stop() must not be kept alive by the server; the exit handler
        // in handleFor still kills it when this process ends.
        child.unref();
        (child.stdout as { unref?: () => void } | null)?.unref?.();
        (child.stderr as { unref?: () => void } | null)?.unref?.();
        resolve(child);
      }
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
  });
}

/** One PING over a raw socket: proves the server answers before any client library gets involved. */
function ping(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('PING timed out')));
    socket.once('error', reject);
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.end();
        if (reply.startsWith('+PONG')) resolve();
        else reject(new Error(`unexpected PING reply: ${reply.trim()}`));
      }
    });
    socket.write('PING\r\n');
  });
}

function handleFor(first: ChildProcess, port: number, dir: TempDir, options: PrivateRedisOptions): RedisHandle {
  let child = first;
  let stopChild = childStopper(child, STOP_TIMEOUT_MS);
  let stopping: Promise<void> | undefined;
  const handle: RedisHandle = {
    url: `${options.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    stop: () => {
      stopping ??= stopChild().then(() => dir.remove());
      return stopping;
    },
    async crash() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    async crashAndRestart(downMs: number) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      await new Promise((resolve) => setTimeout(resolve, downMs));
      child = await spawnRedis(port, dir.path, options);
      stopChild = childStopper(child, STOP_TIMEOUT_MS);
      handle.pid = child.pid;
      await ping(port);
    },
  };
  return handle;
}
