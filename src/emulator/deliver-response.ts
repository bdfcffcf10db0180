import type { ServerResponse } from 'node:http';
import type { TransportPlan } from './generation-engine.js';
import { sendGatewayPage } from './outage-answers.js';

/**
 * Sends an answer the way the plan says: after a delay, or never (hang: until the client goes
 * away or the emulator closes), or not at all (reset: TCP RST), or damaged (truncate: status and
 * headers fine, then half the body with no Content-Length; malformed: the Google XSSI prefix
 * `)]}'` before the JSON, so the body is not JSON), or replaced (gateway-403: a proxy's HTML page
 * instead of whatever the API would have said).
 */
export interface Answer {
  status: number;
  /** A string, or a Buffer for large answers (see json-body.ts). */
  body: string | Buffer;
  headers?: Record<string, string>;
  contentType?: string;
}

export async function deliverResponse(res: ServerResponse, plan: TransportPlan, answer: Answer, shutdown: AbortSignal): Promise<void> {
  if (plan.fault === 'hang') {
    await untilGone(res, shutdown, undefined);
    return;
  }
  if (plan.delayMs > 0 && (await untilGone(res, shutdown, plan.delayMs)) === 'gone') return;
  if (res.destroyed) return;
  const contentType = answer.contentType ?? 'application/json; charset=UTF-8';
  switch (plan.fault) {
    case 'reset': {
      const socket = res.socket;
      if (socket && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket?.destroy();
      return;
    }
    case 'truncate':
      res.writeHead(answer.status, { 'content-type': contentType, ...answer.headers });
      {
        const bytes = Buffer.from(answer.body);
        res.end(bytes.subarray(0, Math.floor(bytes.length / 2)));
      }
      return;
    case 'malformed':
      send(res, answer.status, Buffer.concat([Buffer.from(")]}'\n"), Buffer.from(answer.body)]), contentType, answer.headers);
      return;
    case 'gateway-403':
      sendGatewayPage(res);
      return;
    default:
      send(res, answer.status, answer.body, contentType, answer.headers);
  }
}

function send(res: ServerResponse, status: number, body: string | Buffer, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

/** Resolves 'gone' when the client disconnects or the emulator shuts down, else 'elapsed' after ms. */
function untilGone(res: ServerResponse, shutdown: AbortSignal, ms: number | undefined): Promise<'gone' | 'elapsed'> {
  return new Promise((resolve) => {
    if (shutdown.aborted || res.destroyed) {
      resolve('gone');
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: 'gone' | 'elapsed'): void => {
      if (timer) clearTimeout(timer);
      res.off('close', onGone);
      shutdown.removeEventListener('abort', onGone);
      resolve(result);
    };
    const onGone = (): void => finish('gone');
    res.once('close', onGone);
    shutdown.addEventListener('abort', onGone, { once: true });
    if (ms !== undefined) timer = setTimeout(() => finish('elapsed'), ms);
  });
}
