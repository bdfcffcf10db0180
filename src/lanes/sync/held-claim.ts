import type { Logger } from 'pino';
import type { OutputClaims, OutputIdentity } from '../../runs/output-claims.js';
import type { ClaimRelease } from '../../runs/record-log.js';
import { WORKER_ID } from './attempt-history.js';

/** Claims outlive the call deadline by this much: time to store the outputs and write the marker. */
export const CLAIM_MARGIN_MS = 15_000;

export interface HeldClaim {
  /**
   * Stops renewing and frees the claim (only if still ours). Never throws: a lost release just
   * waits out the TTL. Calling it again returns the first call's promise (one Redis call in all).
   */
  release(): Promise<void>;
  /**
   * Stops renewing and hands the claim to whoever frees it next (the item's record does, in the
   * same round trip); release() is then a no-op. If that never happens the claim just expires.
   */
  handOver(): ClaimRelease;
}

export interface HoldClaimOptions {
  ttlMs: number;
  /**
   * Renewal stops after this long, so a holder stuck past every deadline (a hung storage call)
   * lets the claim lapse instead of blocking the output forever.
   */
  maxHoldMs: number;
  logger: Logger;
}

/** The token a claim is held with: which run, item and delivery, and which worker process. */
export function claimToken(runId: string, index: number, delivery: number): string {
  return `${runId}/${index}/${delivery}@${WORKER_ID}`;
}

/** Whether a holder's token is one of this item's own deliveries (claimToken), any attempt. */
export function heldForItem(token: string, runId: string, index: number): boolean {
  return token.startsWith(`${runId}/${index}/`);
}

/** The run id inside a holder's token, for messages ("claimed by run …"). */
export function holderRunId(token: string): string {
  return token.split('/')[0] ?? token;
}

/** Keeps a taken claim alive while the call runs: renewed every third of its TTL. */
export function holdClaim(claims: OutputClaims, identity: OutputIdentity, token: string, options: HoldClaimOptions): HeldClaim {
  const heldSince = Date.now();
  let stopped = false;
  const renewEvery = Math.max(250, Math.floor(options.ttlMs / 3));
  const timer = setInterval(() => {
    if (Date.now() - heldSince > options.maxHoldMs) {
      clearInterval(timer);
      return;
    }
    claims.renew(identity, token, options.ttlMs).then(
      (renewed) => {
        if (!renewed && !stopped) {
          clearInterval(timer);
          options.logger.warn({ token }, 'output claim lapsed while the call was running (process paused past its TTL?)');
        }
      },
      () => undefined, // Redis trouble: the next tick tries again; the TTL covers a short outage.
    );
  }, renewEvery);
  timer.unref();
  let released: Promise<void> | undefined;
  const release = async () => {
    stopped = true;
    clearInterval(timer);
    try {
      await claims.release(identity, token);
    } catch (error) {
      options.logger.warn({ err: { message: (error as Error).message }, token }, 'could not release an output claim; it expires on its own');
    }
  };
  return {
    release() {
      released ??= release();
      return released;
    },
    handOver() {
      stopped = true;
      clearInterval(timer);
      released ??= Promise.resolve();
      return { key: claims.key(identity), token };
    },
  };
}
