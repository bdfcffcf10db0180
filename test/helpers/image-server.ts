import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

type Route =
  | { kind: 'body'; body: Buffer; contentType: string }
  | { kind: 'redirect'; location: string; status: number }
  | { kind: 'status'; status: number }
  | { kind: 'stall' };

/**
 * A real HTTP server on 127.0.0.1 serving reference images for tests, counting every request per
 * path (query strings ignored), so a test can prove a shared photo was fetched exactly once.
 * Routes can be replaced while it runs ("the merchant uploaded a new photo at the same URL").
 */
export interface ImageServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `http://localhost:<port>`: the same server under a name, for address-guard tests. */
  namedUrl: string;
  serve(path: string, body: Buffer, contentType?: string): void;
  redirect(path: string, location: string, status?: number): void;
  status(path: string, status: number): void;
  stall(path: string): void;
  hits(path: string): number;
  close(): Promise<void>;
}

export async function startImageServer(): Promise<ImageServer> {
  const routes = new Map<string, Route>();
  const hits = new Map<string, number>();
  const open = new Set<ServerResponse>();
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').replace(/\?.*$/, '');
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes.get(path);
    if (!route) return void response.writeHead(404).end('not found');
    switch (route.kind) {
      case 'body':
        response.writeHead(200, { 'content-type': route.contentType, 'content-length': route.body.length });
        return void response.end(route.body);
      case 'redirect':
        response.writeHead(route.status, { location: route.location });
        return void response.end();
      case 'status':
        return void response.writeHead(route.status).end();
      case 'stall':
        open.add(response);
        response.writeHead(200, { 'content-type': 'image/png' });
        response.write(Buffer.from([0x89, 0x50]));
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    namedUrl: `http://localhost:${port}`,
    serve: (path, body, contentType = 'image/png') => void routes.set(path, { kind: 'body', body, contentType }),
    redirect: (path, location, status = 302) => void routes.set(path, { kind: 'redirect', location, status }),
    status: (path, status) => void routes.set(path, { kind: 'status', status }),
    stall: (path) => void routes.set(path, { kind: 'stall' }),
    hits: (path) => hits.get(path) ?? 0,
    async close() {
      for (const response of open) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A solid-colour image, e.g. a "product photo" whose colour a test can find again in the output. */
export function solidImage(
  color: { r: number; g: number; b: number },
  options: { width?: number; height?: number; format?: 'png' | 'jpeg' | 'webp' | 'gif' } = {},
): Promise<Buffer> {
  const image = sharp({ create: { width: options.width ?? 64, height: options.height ?? 64, channels: 3, background: color } });
  switch (options.format ?? 'png') {
    case 'jpeg':
      return image.jpeg({ quality: 90 }).toBuffer();
    case 'webp':
      return image.webp({ quality: 90 }).toBuffer();
    case 'gif':
      return image.gif().toBuffer();
    default:
      return image.png().toBuffer();
  }
}

/** Mean colour of an image's pixels. */
export async function meanColor(bytes: Buffer): Promise<{ r: number; g: number; b: number }> {
  const stats = await sharp(bytes).stats();
  const [r, g, b] = stats.channels.map((channel) => Math.round(channel.mean));
  return { r: r ?? 0, g: g ?? 0, b: b ?? 0 };
}
