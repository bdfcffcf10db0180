import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';

/**
 * Who may use the console. On a loopback address it is whoever can reach the port (the machine's
 * own users) — by a loopback name: a web page whose own name was made to resolve to 127.0.0.1 (DNS
 * rebinding) is refused by its Host header. On any other address every request needs the token
 * (`BUNCH_CONSOLE_TOKEN`): as a bearer header, or as the cookie the login form sets. Tokens are
 * compared in constant time (digests of equal length), never logged and never put in a page.
 */
export const COOKIE = 'bunch_console';

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1';
  return false;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined || given === '') return false;
  return timingSafeEqual(digest(given), digest(expected));
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(rest.join('='));
    } catch {
      return undefined; // a malformed cookie is no token (401), not a server error
    }
  }
  return undefined;
}

export function givenToken(req: Request): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
  return bearer ?? cookieValue(req.headers.cookie, COOKIE);
}

/** Requests without the token get the login page (HTML) or 401 (anything else); /login itself is open. */
export function requireToken(token: string | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (token === undefined || req.path === '/login') return next();
    if (tokenMatches(givenToken(req), token)) return next();
    if (req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) {
      res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    res.status(401).type('text/plain').send('a console token is needed (BUNCH_CONSOLE_TOKEN): Authorization: Bearer <token>, or log in at /login\n');
  };
}

/**
 * Without a token, the console answers only requests addressed to a loopback name (`localhost`,
 * `127.x.x.x`, `[::1]`, any port, so an SSH tunnel works): a page on another site whose name now
 * resolves to 127.0.0.1 sends its own name as Host, and would otherwise read every run and press
 * every button. A request without Host (HTTP/1.0 tools) is let through. With a token, the token
 * is the guard (a proxy may put any name in Host).
 */
export function loopbackNamesOnly(token: string | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (token !== undefined) return next();
    const host = req.headers.host;
    if (host === undefined || isLoopback(hostnameOf(host))) return next();
    res.status(403).type('text/plain').send('this console answers only to localhost, 127.0.0.1 or [::1] (set BUNCH_CONSOLE_TOKEN to serve it under another name)\n');
  };
}

function hostnameOf(host: string): string {
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return '';
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Requests that change something (cancel, retry, login, and bull-board's buttons) must come from
 * the console's own pages: a browser sends Origin with them, and the cookie is SameSite=Strict as
 * well. `Origin: null` (a sandboxed frame, a redirected form) is another site's too, unless the
 * browser says the request is same-origin (Sec-Fetch-Site) or it carries the token as a bearer
 * header — which a page on another site cannot set.
 * Requests without Origin are not from a browser's cross-site form (curl, scripts) and pass.
 */
export function sameOriginChanges(publicOrigin?: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (SAFE_METHODS.has(req.method)) return next();
    const origin = req.headers.origin;
    const bearer = /^Bearer\s+\S/i.test(req.headers.authorization ?? '');
    let refused: boolean;
    if (origin === undefined) refused = req.headers['sec-fetch-site'] === 'cross-site' && !bearer;
    // Our pages send `Referrer-Policy: no-referrer`, under which a browser sends `Origin: null` for
    // their own forms too; those say `Sec-Fetch-Site: same-origin`, a sandboxed frame does not.
    else if (origin === 'null') refused = !bearer && req.headers['sec-fetch-site'] !== 'same-origin';
    // Behind a proxy that rewrites Host (nginx's default), the browser's Origin is the public one.
    else refused = originHost(origin) !== req.headers.host && origin !== publicOrigin;
    if (refused) {
      res.status(403).type('text/plain').send('cross-site request refused\n');
      return;
    }
    next();
  };
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
