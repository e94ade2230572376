/** Prometheus metrics (prom-client), on a registry per app so tests and several apps in one process stay apart. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from './store/db.js';
import { countJobs } from './store/outbox.js';

export interface AuthMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route'>;
  readonly ticketsMinted: Counter;
  readonly redemptions: Counter<'outcome'>;
  readonly verificationFailures: Counter<'kind'>;
  readonly rateLimited: Counter<'kind'>;
  readonly deliveries: Counter<'server' | 'outcome'>;
  readonly connectionsRefused: Counter<'reason'>;
}

export function createMetrics(db: Db): AuthMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'meet_auth_' });
  const metrics: AuthMetrics = {
    registry,
    httpRequests: new Counter({
      name: 'meet_auth_http_requests_total',
      help: 'HTTP requests answered',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'meet_auth_http_request_duration_seconds',
      help: 'Time to answer HTTP requests',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    ticketsMinted: new Counter({
      name: 'meet_auth_tickets_minted_total',
      help: 'Tickets minted',
      registers: [registry],
    }),
    redemptions: new Counter({
      name: 'meet_auth_redemptions_total',
      help: 'Redemption attempts by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    verificationFailures: new Counter({
      name: 'meet_auth_verification_failures_total',
      help: 'Failed ticket or ticketmaster token verifications',
      labelNames: ['kind'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'meet_auth_rate_limited_total',
      help: 'Requests refused with 429',
      labelNames: ['kind'],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'meet_auth_job_deliveries_total',
      help: 'Job delivery attempts by outcome',
      labelNames: ['server', 'outcome'],
      registers: [registry],
    }),
    connectionsRefused: new Counter({
      name: 'meet_auth_connections_refused_total',
      help: 'Connections or unfinished requests refused by the connection limits',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
  new Gauge({
    name: 'meet_auth_jobs',
    help: 'Outbox jobs by status',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      for (const [status, count] of Object.entries(countJobs(db))) this.set({ status }, count);
    },
  });
  return metrics;
}
