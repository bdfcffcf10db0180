import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Queue } from 'bullmq';
import { answerWithin } from '../redis/answer-within.js';
import type { ItemRecord } from '../runs/item-record.js';

/**
 * What one worker process did, for Prometheus (`bunch worker --metrics-port`): items it recorded
 * by status and lane and what they cost, its model calls by outcome (the error code, or `ok`) with
 * their latency, calls in flight, 429s and the queue-wide pauses they caused, and the queues'
 * depth per state (read from Redis at each scrape). Counters count this process only; sum them
 * over the fleet in PromQL.
 */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;

/**
 * How long a scrape waits for the queues' depth. A Redis that stops answering with its connection
 * up left the read, and so the whole scrape, pending for ever: this process's own counters, what
 * an operator most wants then, were not served either.
 */
export const SCRAPE_REDIS_ANSWER_MS = 5_000;

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly items = new Counter({ name: 'bunch_items_total', help: 'Items recorded terminal by this process, by status and lane', labelNames: ['status', 'lane'], registers: [this.registry] });
  readonly cost = new Counter({ name: 'bunch_cost_usd_total', help: 'What the items this process recorded cost, in USD', labelNames: ['lane'], registers: [this.registry] });
  readonly calls = new Counter({ name: 'bunch_model_calls_total', help: 'Model calls by outcome (ok, or the bunch error code) and protocol', labelNames: ['outcome', 'protocol'], registers: [this.registry] });
  readonly callSeconds = new Histogram({
    name: 'bunch_model_call_seconds',
    help: 'Model call latency by outcome',
    labelNames: ['outcome'],
    buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 30, 45, 60, 120],
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({ name: 'bunch_model_calls_in_flight', help: 'Model calls waiting for an answer', registers: [this.registry] });
  readonly rateLimited = new Counter({ name: 'bunch_rate_limited_total', help: 'Model calls answered 429 (E_RATE_LIMITED)', registers: [this.registry] });
  readonly queuePauses = new Counter({ name: 'bunch_queue_pauses_total', help: 'Queue-wide pauses this process asked for after a 429 with a retry delay', registers: [this.registry] });
  /** Queues whose depth each scrape reads from Redis (a failed or late read leaves the last values). */
  private readonly watched = new Map<string, Queue>();
  readonly queueJobs: Gauge;
  /** How old each queue's depth above is: it keeps its last values while Redis does not answer. */
  readonly queueJobsAge: Gauge;

  constructor(options: { defaultMetrics?: boolean; redisAnswerMs?: number } = {}) {
    const watched = this.watched;
    const answerMs = options.redisAnswerMs ?? SCRAPE_REDIS_ANSWER_MS;
    const readAt = new Map<string, number>();
    // The scrape's read of the depths, which the age waits for (a registry collects its metrics at once).
    let reading: Promise<unknown> = Promise.resolve();
    this.queueJobs = new Gauge({
      name: 'bunch_queue_jobs',
      help: 'Jobs in each BullMQ queue by state (read at scrape time)',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        reading = Promise.all(
          [...watched].map(async ([name, queue]) => {
            const counts = await answerWithin(queue.getJobCounts(...QUEUE_STATES), answerMs, `queue ${name}'s depth`).catch(() => undefined);
            if (!counts) return;
            for (const state of QUEUE_STATES) this.set({ queue: name, state }, counts[state] ?? 0);
            readAt.set(name, Date.now());
          }),
        );
        await reading;
      },
    });
    this.queueJobsAge = new Gauge({
      name: 'bunch_queue_jobs_age_seconds',
      help: 'Seconds since bunch_queue_jobs was last read from Redis for each queue (it keeps its last values while Redis does not answer)',
      labelNames: ['queue'],
      registers: [this.registry],
      async collect() {
        await reading;
        for (const [name, at] of readAt) this.set({ queue: name }, Math.round((Date.now() - at) / 100) / 10);
      },
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'bunch_' });
  }

  watchQueues(queues: Record<string, Queue>): void {
    for (const [name, queue] of Object.entries(queues)) this.watched.set(name, queue);
  }

  itemRecorded(record: ItemRecord): void {
    this.items.inc({ status: record.status, lane: record.lane });
    if (record.costUsd > 0) this.cost.inc({ lane: record.lane }, record.costUsd);
  }
}
