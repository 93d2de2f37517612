import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The worker's Prometheus metrics, on a registry of its own. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kikimimi_worker_' });
  const polls = new Counter({
    name: 'kikimimi_polls_total',
    help: 'Polls of platform sources, by platform and outcome',
    labelNames: ['platform', 'outcome'],
    registers: [registry],
  });
  const postsRead = new Counter({
    name: 'kikimimi_posts_read_total',
    help: 'Posts read from platforms (X bills per post read)',
    labelNames: ['platform'],
    registers: [registry],
  });
  const matches = new Counter({
    name: 'kikimimi_matches_total',
    help: 'New matches, by platform, intent and whether suppressed',
    labelNames: ['platform', 'intent', 'suppressed'],
    registers: [registry],
  });
  const reviewLatency = new Histogram({
    name: 'kikimimi_review_latency_seconds',
    help: 'Time from a post being stored to its review message being posted',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [registry],
  });
  const replies = new Counter({
    name: 'kikimimi_replies_total',
    help: 'Replies, by platform and outcome (sent, manual, failed)',
    labelNames: ['platform', 'outcome'],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'kikimimi_job_failures_total',
    help: 'Failed job attempts, by queue',
    labelNames: ['queue'],
    registers: [registry],
  });
  const streams = new Gauge({
    name: 'kikimimi_streams_held',
    help: 'Streaming connections held by this worker',
    registers: [registry],
  });
  return { registry, polls, postsRead, matches, reviewLatency, replies, failures, streams };
}
export type Metrics = ReturnType<typeof createMetrics>;
