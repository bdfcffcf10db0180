import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  createServer as createTcpServer,
  getDefaultAutoSelectFamily,
  setDefaultAutoSelectFamily,
  type AddressInfo,
  type Socket,
} from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { fetchHttpReference } from '../../../src/references/fetch-http-reference.js';
import {
  DEFAULT_REFERENCE_FETCH_LIMITS,
  type AddressPolicy,
  type ReferenceFetchLimits,
} from '../../../src/references/reference-fetch-options.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * A real HTTP server on 127.0.0.1 with per-test routes, counting requests per path (query
 * ignored) and letting a test wait until a path has been requested.
 */
interface TestServer {
  port: number;
  url(path: string): string;
  route(path: string, handler: Handler): void;
  hits(path: string): number;
  total(): number;
  /** Resolves with the request once `path` has been requested. */
  requested(path: string): Promise<IncomingMessage>;
  reset(): void;
  close(): Promise<void>;
}

async function startTestServer(): Promise<TestServer> {
  const routes = new Map<string, Handler>();
  const hits = new Map<string, number>();
  const waiters = new Map<string, Array<(request: IncomingMessage) => void>>();
  let total = 0;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').replace(/\?.*$/s, '');
    total += 1;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    for (const resolve of waiters.get(path) ?? []) resolve(request);
    waiters.delete(path);
    const handler = routes.get(path);
    if (handler === undefined) return void response.writeHead(404).end('not found');
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    route: (path, handler) => void routes.set(path, handler),
    hits: (path) => hits.get(path) ?? 0,
    total: () => total,
    requested: (path) =>
      new Promise((resolve) => {
        waiters.set(path, [...(waiters.get(path) ?? []), resolve]);
      }),
    reset() {
      routes.clear();
      hits.clear();
      waiters.clear();
      total = 0;
      server.closeAllConnections();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nobody listens on: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function failureOf(promise: Promise<unknown>): Promise<BunchError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof BunchError)) throw new Error(`expected a BunchError, got ${String(outcome)}`);
  return outcome;
}

const LOOPBACK_ALLOWED: AddressPolicy = { allowHosts: ['127.0.0.1'], allowPrivate: false };
const DEFAULT_POLICY: AddressPolicy = { allowHosts: [], allowPrivate: false };
const LIMITS: ReferenceFetchLimits = { ...DEFAULT_REFERENCE_FETCH_LIMITS, timeoutMs: 10_000, connectTimeoutMs: 5_000 };
const PHOTO = Buffer.from(Array.from({ length: 5000 }, (_, index) => (index * 31) % 256));

function serve(body: Buffer, contentType = 'image/jpeg'): Handler {
  return (_request, response) => {
    response.writeHead(200, { 'content-type': contentType, 'content-length': body.length });
    response.end(body);
  };
}

function redirect(location: string, status = 302): Handler {
  return (_request, response) => {
    response.writeHead(status, { location });
    response.end();
  };
}

describe('fetchHttpReference against a real HTTP server', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  beforeEach(() => server.reset());
  afterAll(async () => {
    await server?.close();
  });

  describe('fetching', () => {
    it('returns the exact bytes and content type with one request, asking for no content encoding', async () => {
      let headers: IncomingMessage['headers'] = {};
      server.route('/photo.jpg', (request, response) => {
        headers = request.headers;
        serve(PHOTO)(request, response);
      });
      const body = await fetchHttpReference(server.url('/photo.jpg'), { limits: LIMITS, policy: LOOPBACK_ALLOWED, userAgent: 'bunch-test' });
      expect(body.bytes.equals(PHOTO)).toBe(true);
      expect(body.contentType).toBe('image/jpeg');
      expect(body.redirects).toBe(0);
      expect(body.finalUrl).toBe(server.url('/photo.jpg'));
      expect(server.total()).toBe(1);
      expect(headers['accept-encoding']).toBe('identity');
      expect(headers['user-agent']).toBe('bunch-test');
    });

    it('reads a chunked body of exactly maxBytes', async () => {
      server.route('/chunked', (_request, response) => {
        response.writeHead(200, { 'content-type': 'image/png' });
        response.write(PHOTO.subarray(0, 2000));
        response.end(PHOTO.subarray(2000));
      });
      const body = await fetchHttpReference(server.url('/chunked'), { limits: { ...LIMITS, maxBytes: PHOTO.length }, policy: LOOPBACK_ALLOWED });
      expect(body.bytes.equals(PHOTO)).toBe(true);
      expect(server.total()).toBe(1);
    });

    it('follows a chain of 3 redirects (absolute and relative Locations), one request per hop', async () => {
      server.route('/r1', redirect(server.url('/r2?sig=abc'), 301));
      server.route('/r2', redirect('r3', 307));
      server.route('/r3', redirect('/final.jpg', 308));
      server.route('/final.jpg', serve(PHOTO));
      const body = await fetchHttpReference(server.url('/r1'), { limits: LIMITS, policy: LOOPBACK_ALLOWED });
      expect(body.bytes.equals(PHOTO)).toBe(true);
      expect(body.redirects).toBe(3);
      expect(body.finalUrl).toBe(server.url('/final.jpg'));
      expect(['/r1', '/r2', '/r3', '/final.jpg'].map((path) => server.hits(path))).toEqual([1, 1, 1, 1]);
      expect(server.total()).toBe(4);
    });

    it('follows exactly maxRedirects hops and refuses one more with too-many-redirects', async () => {
      for (let hop = 0; hop < 6; hop += 1) server.route(`/hop${hop}`, redirect(`/hop${hop + 1}`, 303));
      server.route('/hop6', serve(PHOTO));
      const limits = { ...LIMITS, maxRedirects: 5 };

      const five = await fetchHttpReference(server.url('/hop1'), { limits, policy: LOOPBACK_ALLOWED });
      expect(five.redirects).toBe(5);

      server.reset();
      for (let hop = 0; hop < 6; hop += 1) server.route(`/hop${hop}`, redirect(`/hop${hop + 1}`, 303));
      server.route('/hop6', serve(PHOTO));
      const error = await failureOf(fetchHttpReference(server.url('/hop0'), { limits, policy: LOOPBACK_ALLOWED }));
      expect(error.code).toBe('E_REFERENCE');
      expect(error.reason).toBe('too-many-redirects');
      expect(server.hits('/hop6')).toBe(0);
      expect(server.total()).toBe(6);
    });

    it('a host name allowed by name is fetched through the guarded lookup', async () => {
      server.route('/named.jpg', serve(PHOTO));
      const body = await fetchHttpReference(`http://localhost:${server.port}/named.jpg`, {
        limits: LIMITS,
        policy: { allowHosts: ['localhost'], allowPrivate: false },
      });
      expect(body.bytes.equals(PHOTO)).toBe(true);
    });
  });

  describe('the address guard', () => {
    it.each([true, false])('guards host names whichever lookup shape node:net asks for (autoSelectFamily %s)', async (autoSelectFamily) => {
      const before = getDefaultAutoSelectFamily();
      setDefaultAutoSelectFamily(autoSelectFamily);
      try {
        server.route('/photo.jpg', serve(PHOTO));
        const url = `http://localhost:${server.port}/photo.jpg`;
        const body = await fetchHttpReference(url, { limits: LIMITS, policy: { allowHosts: ['localhost'], allowPrivate: false } });
        expect(body.bytes.equals(PHOTO)).toBe(true);
        const error = await failureOf(fetchHttpReference(url, { limits: LIMITS, policy: DEFAULT_POLICY }));
        expect(error.reason).toBe('blocked-address');
        expect(server.total()).toBe(1);
      } finally {
        setDefaultAutoSelectFamily(before);
      }
    });

    it.each([
      ['127.0.0.1', (port: number) => `http://127.0.0.1:${port}/photo.jpg`],
      ['localhost', (port: number) => `http://localhost:${port}/photo.jpg`],
      ['localhost.', (port: number) => `http://localhost.:${port}/photo.jpg`],
      ['decimal 2130706433', (port: number) => `http://2130706433:${port}/photo.jpg`],
      ['hex 0x7f.1', (port: number) => `http://0x7f.1:${port}/photo.jpg`],
      ['octal 017700000001', (port: number) => `http://017700000001:${port}/photo.jpg`],
      ['[::1]', (port: number) => `http://[::1]:${port}/photo.jpg`],
      ['[::ffff:127.0.0.1]', (port: number) => `http://[::ffff:127.0.0.1]:${port}/photo.jpg`],
      ['https to 127.0.0.1', (port: number) => `https://127.0.0.1:${port}/photo.jpg`],
    ])('refuses loopback under the default policy: %s', async (_name, urlOf) => {
      server.route('/photo.jpg', serve(PHOTO));
      const error = await failureOf(fetchHttpReference(urlOf(server.port), { limits: LIMITS, policy: DEFAULT_POLICY }));
      expect(error.code).toBe('E_REFERENCE');
      expect(error.reason).toBe('blocked-address');
      expect(error.message).toContain('loopback');
      expect(error.message).toContain('references.allowHosts');
      expect(server.total()).toBe(0);
    });

    it('names the location and the resolved address in the refusal', async () => {
      const error = await failureOf(fetchHttpReference(`http://localhost:${server.port}/a.jpg?sig=secret123`, { limits: LIMITS, policy: DEFAULT_POLICY }));
      expect(error.message).toBe(
        `reference http://localhost:${server.port}/a.jpg resolves to 127.0.0.1 (loopback); refused by the address guard (allow it with references.allowHosts)`,
      );
    });

    it('re-checks every redirect hop: an allowed host name cannot redirect to another private address', async () => {
      server.route('/start.jpg', redirect(`http://127.0.0.2:${server.port}/inside.jpg`));
      server.route('/inside.jpg', serve(PHOTO));
      const error = await failureOf(
        fetchHttpReference(`http://localhost:${server.port}/start.jpg`, { limits: LIMITS, policy: { allowHosts: ['localhost'], allowPrivate: false } }),
      );
      expect(error.reason).toBe('blocked-address');
      expect(error.message).toContain('127.0.0.2');
      expect(server.hits('/start.jpg')).toBe(1);
      expect(server.hits('/inside.jpg')).toBe(0);
    });

    it('re-checks a redirect to a host name: the name is resolved and its address refused', async (context) => {
      // A second server on another loopback address, allowed by address; it redirects to a name
      // that resolves to 127.0.0.1, which is not allowed.
      const other = createServer(redirect(`http://localhost:${server.port}/inside.jpg`));
      const listening = await new Promise<boolean>((resolve) => {
        other.once('error', () => resolve(false));
        other.listen(0, '127.0.0.2', () => resolve(true));
      });
      if (!listening) return context.skip('127.0.0.2 is not a local address on this machine');
      try {
        server.route('/inside.jpg', serve(PHOTO));
        const port = (other.address() as AddressInfo).port;
        const error = await failureOf(
          fetchHttpReference(`http://127.0.0.2:${port}/start.jpg`, { limits: LIMITS, policy: { allowHosts: ['127.0.0.2'], allowPrivate: false } }),
        );
        expect(error.reason).toBe('blocked-address');
        expect(error.message).toContain('resolves to 127.0.0.1 (loopback)');
        expect(server.hits('/inside.jpg')).toBe(0);
      } finally {
        await new Promise<void>((resolve) => other.close(() => resolve()));
      }
    });

    it('an allowed address allows whatever host name leads to it', async () => {
      server.route('/start.jpg', redirect(`http://localhost:${server.port}/inside.jpg`));
      server.route('/inside.jpg', serve(PHOTO));
      const body = await fetchHttpReference(server.url('/start.jpg'), { limits: LIMITS, policy: LOOPBACK_ALLOWED });
      expect(body.redirects).toBe(1);
      expect(body.bytes.equals(PHOTO)).toBe(true);
    });

    it('allowPrivate lets everything through', async () => {
      server.route('/photo.jpg', serve(PHOTO));
      const body = await fetchHttpReference(`http://0x7f.1:${server.port}/photo.jpg`, { limits: LIMITS, policy: { allowHosts: [], allowPrivate: true } });
      expect(body.bytes.equals(PHOTO)).toBe(true);
    });
  });

  describe('locations that are never fetched', () => {
    it.each([
      ['userinfo trick', (port: number) => `http://good.example@127.0.0.1:${port}/photo.jpg`],
      ['user and password', (port: number) => `http://user:pw@127.0.0.1:${port}/photo.jpg`],
      ['ftp scheme', (port: number) => `ftp://127.0.0.1:${port}/photo.jpg`],
      ['file scheme', () => 'file:///etc/passwd'],
      ['not a URL', () => 'http://exa mple.com/a.jpg'],
    ])('%s → bad-location', async (_name, urlOf) => {
      server.route('/photo.jpg', serve(PHOTO));
      const error = await failureOf(fetchHttpReference(urlOf(server.port), { limits: LIMITS, policy: LOOPBACK_ALLOWED }));
      expect(error.code).toBe('E_REFERENCE');
      expect(error.reason).toBe('bad-location');
      expect(error.message).not.toContain('pw@');
      expect(server.total()).toBe(0);
    });

    it('a redirect to a file:// location → bad-location', async () => {
      server.route('/start.jpg', redirect('file:///etc/passwd'));
      const error = await failureOf(fetchHttpReference(server.url('/start.jpg'), { limits: LIMITS, policy: LOOPBACK_ALLOWED }));
      expect(error.reason).toBe('bad-location');
    });
  });

  describe('limits', () => {
    it('refuses a chunked body as soon as it passes maxBytes and closes the connection', async () => {
      let serverSocketClosed!: Promise<void>;
      server.route('/huge', (request, response) => {
        serverSocketClosed = new Promise((resolve) => request.socket.once('close', () => resolve()));
        response.writeHead(200, { 'content-type': 'image/png' });
        // More than the limit, then the server keeps the response open: only the streamed count can stop the read.
        response.write(Buffer.alloc(600));
        response.write(Buffer.alloc(600));
      });
      const error = await failureOf(fetchHttpReference(server.url('/huge'), { limits: { ...LIMITS, maxBytes: 1000 }, policy: LOOPBACK_ALLOWED }));
      expect(error.code).toBe('E_REFERENCE');
      expect(error.reason).toBe('too-large');
      await serverSocketClosed;
    });

    it('refuses up front when Content-Length declares more than maxBytes', async () => {
      server.route('/declared', (_request, response) => {
        response.writeHead(200, { 'content-type': 'image/png', 'content-length': 50_000_000 });
        response.write(Buffer.alloc(10));
      });
      const error = await failureOf(fetchHttpReference(server.url('/declared'), { limits: { ...LIMITS, maxBytes: 1000 }, policy: LOOPBACK_ALLOWED }));
      expect(error.reason).toBe('too-large');
      expect(error.message).toContain('50000000');
    });

    it('a body that stalls ends at the total deadline (not the per-hop connect timeout)', async () => {
      server.route('/slow', (_request, response) => {
        response.writeHead(200, { 'content-type': 'image/png' });
        response.write(Buffer.from([0x89]));
      });
      const error = await failureOf(
        fetchHttpReference(server.url('/slow'), { limits: { ...LIMITS, timeoutMs: 400, connectTimeoutMs: 100 }, policy: LOOPBACK_ALLOWED }),
      );
      expect(error.code).toBe('E_REFERENCE');
      expect(error.reason).toBe('timeout');
      expect(error.message).toContain('in total (references.timeout)');
    });

    it('a TLS handshake that never completes ends at the connect timeout', async () => {
      const sockets = new Set<Socket>();
      const silent = createTcpServer((socket) => void sockets.add(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as AddressInfo).port;
      try {
        const error = await failureOf(
          fetchHttpReference(`https://127.0.0.1:${port}/photo.jpg`, { limits: { ...LIMITS, connectTimeoutMs: 200, timeoutMs: 30_000 }, policy: LOOPBACK_ALLOWED }),
        );
        expect(error.reason).toBe('timeout');
        expect(error.message).toContain('connecting took longer than 200 ms (references.connectTimeout)');
        expect(sockets.size).toBe(1);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });

    it("the caller's signal cancels a fetch in flight", async () => {
      server.route('/stall', (_request, response) => {
        response.writeHead(200, { 'content-type': 'image/png' });
        response.write(Buffer.from([0x89]));
      });
      const controller = new AbortController();
      const fetching = failureOf(fetchHttpReference(server.url('/stall'), { limits: LIMITS, policy: LOOPBACK_ALLOWED, signal: controller.signal }));
      await server.requested('/stall');
      controller.abort();
      const error = await fetching;
      expect(error.reason).toBe('timeout');
      expect(error.message).toContain('cancelled');
    });
  });

  describe('statuses and network failures', () => {
    it.each([404, 410])('%i → not-found', async (status) => {
      server.route('/gone.jpg', (_request, response) => void response.writeHead(status).end());
      const error = await failureOf(fetchHttpReference(server.url('/gone.jpg'), { limits: LIMITS, policy: LOOPBACK_ALLOWED }));
      expect(error.code).toBe('E_REFERENCE');
      expect(error.reason).toBe('not-found');
      expect(error.status).toBe(status);
      expect(server.total()).toBe(1);
    });

    it.each([500, 403, 304])('%i → http-status with the status in the message', async (status) => {
      server.route('/broken.jpg', (_request, response) => void response.writeHead(status).end());
      const error = await failureOf(fetchHttpReference(server.url('/broken.jpg'), { limits: LIMITS, policy: LOOPBACK_ALLOWED }));
      expect(error.reason).toBe('http-status');
      expect(error.status).toBe(status);
      expect(error.message).toContain(`HTTP ${status}`);
    });

    it('a redirect without a Location → http-status', async () => {
      server.route('/nowhere', (_request, response) => void response.writeHead(302).end());
      const error = await failureOf(fetchHttpReference(server.url('/nowhere'), { limits: LIMITS, policy: LOOPBACK_ALLOWED }));
      expect(error.reason).toBe('http-status');
    });

    it('a refused connection → network', async () => {
      const port = await closedPort();
      const error = await failureOf(fetchHttpReference(`http://127.0.0.1:${port}/a.jpg`, { limits: LIMITS, policy: LOOPBACK_ALLOWED }));
      expect(error.code).toBe('E_REFERENCE');
      expect(error.reason).toBe('network');
      expect(error.message).toContain('ECONNREFUSED');
    });

    it('a connection closed in the middle of the body → network', async () => {
      server.route('/cut', (request, response) => {
        response.writeHead(200, { 'content-type': 'image/png', 'content-length': 1000 });
        response.write(Buffer.alloc(10), () => request.socket.destroy());
      });
      const error = await failureOf(fetchHttpReference(server.url('/cut'), { limits: LIMITS, policy: LOOPBACK_ALLOWED }));
      expect(error.reason).toBe('network');
    });

    it('a host name that does not resolve → network', async () => {
      const error = await failureOf(fetchHttpReference('http://no-such-host.invalid/a.jpg', { limits: LIMITS, policy: DEFAULT_POLICY }));
      expect(error.reason).toBe('network');
      expect(error.message).toContain('ENOTFOUND');
    });
  });

  describe('signed URLs', () => {
    const secret = 'secret123';
    const signed = `X-Amz-Signature=${secret}&X-Amz-Credential=AKIAEXAMPLE`;

    function expectNoSecret(error: BunchError): void {
      expect(error.message).not.toContain(secret);
      expect(String(error.cause)).not.toContain(secret);
      expect(error.cause instanceof Error ? (error.cause.stack ?? '') : '').not.toContain(secret);
      expect(JSON.stringify(error.toRecord())).not.toContain(secret);
    }

    it('a 404 never shows the query string', async () => {
      const error = await failureOf(fetchHttpReference(server.url(`/missing.jpg?${signed}`), { limits: LIMITS, policy: LOOPBACK_ALLOWED }));
      expect(error.reason).toBe('not-found');
      expect(error.message).toContain(server.url('/missing.jpg'));
      expectNoSecret(error);
    });

    it('a redirect to another signed URL that fails never shows either query string', async () => {
      server.route('/start.jpg', redirect(`/broken.jpg?${signed}`));
      server.route('/broken.jpg', (_request, response) => void response.writeHead(500).end());
      const error = await failureOf(fetchHttpReference(server.url(`/start.jpg?token=${secret}`), { limits: LIMITS, policy: LOOPBACK_ALLOWED }));
      expect(error.reason).toBe('http-status');
      expect(error.message).toContain('/broken.jpg');
      expectNoSecret(error);
    });

    it.each([
      ['network', async () => `http://127.0.0.1:${await closedPort()}/a.jpg?${signed}`, LOOPBACK_ALLOWED],
      ['blocked-address', async () => `http://localhost:${server.port}/a.jpg?${signed}`, DEFAULT_POLICY],
      ['bad-location', async () => `http://user:${secret}@127.0.0.1:${server.port}/a.jpg?${signed}`, LOOPBACK_ALLOWED],
    ] as const)('%s never shows the query string or the password', async (reason, urlOf, policy) => {
      const error = await failureOf(fetchHttpReference(await urlOf(), { limits: LIMITS, policy }));
      expect(error.reason).toBe(reason);
      expectNoSecret(error);
    });
  });
});
