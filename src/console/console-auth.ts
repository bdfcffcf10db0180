import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';

/**
 * Who may use the console. On a loopback address it is whoever can reach the port (the machine's
 * own users); on any other address every request needs the token (`BUNCH_CONSOLE_TOKEN`): as a
 * bearer header, or as the cookie the login form sets. Tokens are compared in constant time
 * (digests of equal length), never logged and never put in a page.
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
    if (key === name) return decodeURIComponent(rest.join('='));
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
 * Forms that change something (cancel, retry, login) must come from the console's own pages: a
 * browser sends Origin on a cross-site POST, and the cookie is SameSite=Strict as well.
 */
export function sameOriginPosts(req: Request, res: Response, next: NextFunction): void {
  if (req.method !== 'POST') return next();
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host !== req.headers.host) {
      res.status(403).type('text/plain').send('cross-site request refused\n');
      return;
    }
  }
  next();
}
