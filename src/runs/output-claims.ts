import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RunScripts } from './run-scripts.js';

/** What a claim is about: one output (where it is written, and for which exact input). */
export interface OutputIdentity {
  /** The marker's full location (`s3://bucket/prefix/…`, `file:///…`): the same for every run writing there. */
  markerUri: string;
  inputHash: string;
}

export type ClaimAttempt =
  | { taken: true }
  /** Someone else holds it: their token (run, item, worker) and how long it still lives. */
  | { taken: false; holder: string; ttlMs: number };

/**
 * Claims on outputs, keyed by the output's identity, not the run: two overlapping runs of one job,
 * or a stalled delivery and its redelivery, see the same key. A claim lives `ttlMs` unless renewed
 * by its holder; renewing and releasing check the holder's token, so a holder whose claim expired
 * (a process frozen past the TTL) can never release or extend somebody else's.
 *
 *   <p>:claim:<sha256(markerUri \n inputHash)>   string token, with TTL
 */
export class OutputClaims {
  constructor(
    private readonly redis: Redis & RunScripts,
    private readonly prefix: string,
  ) {}

  key(identity: OutputIdentity): string {
    const digest = createHash('sha256').update(`${identity.markerUri}\n${identity.inputHash}`).digest('hex');
    return `${this.prefix}:claim:${digest}`;
  }

  async take(identity: OutputIdentity, token: string, ttlMs: number): Promise<ClaimAttempt> {
    const [taken, holder, ttl] = await this.redis.bunchTakeClaim(this.key(identity), token, String(Math.ceil(ttlMs)));
    return taken === 1 ? { taken: true } : { taken: false, holder, ttlMs: Math.max(0, ttl) };
  }

  /** False when the claim is no longer this holder's (it expired, and maybe somebody else took it). */
  async renew(identity: OutputIdentity, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.bunchRenewClaim(this.key(identity), token, String(Math.ceil(ttlMs)))) === 1;
  }

  /** Who holds the claim on an output now (their token), if anyone does. */
  async holder(identity: OutputIdentity): Promise<string | undefined> {
    return (await this.redis.get(this.key(identity))) ?? undefined;
  }

  async release(identity: OutputIdentity, token: string): Promise<void> {
    await this.redis.bunchReleaseLock(this.key(identity), token);
  }
}
