import type { Repositories } from '@kikimimi/db';
import type { Desk } from '@kikimimi/desk';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** What a console user may do: admin everything, editor rules and templates (and the inbox), viewer reads. */
export type Role = 'admin' | 'editor' | 'viewer';

export interface SessionUser {
  readonly id: string;
  readonly username: string;
  readonly role: Role;
}

import type { Lang } from '@kikimimi/runtime';

export type { Lang };

/** The console's collaborators, wired once in main.ts (tests pass their own). */
export interface WebDeps {
  readonly repos: Repositories;
  /** Every decision on a match (the same desk the Discord buttons use). */
  readonly desk: Desk;
  /**
   * Hands the jobs waiting in the outbox to the queue now; false when the queue did not take them in
   * time (they stay in the outbox, and the worker relays them once Redis answers).
   */
  relayOutbox(): Promise<boolean>;
  /** Tells running workers the configuration (or the accounts) changed. */
  publishConfigChanged(): Promise<void>;
  /** Key-value counters with expiry (login rate limiting); Redis in production. */
  readonly limiter: {
    hit(key: string, windowSeconds: number): Promise<number>;
    /** Takes one hit back (an attempt that turned out not to count), never below zero. */
    release(key: string): Promise<void>;
    reset(key: string): Promise<void>;
  };
  readonly now: () => Date;
  readonly log: Logger;
  /** Prometheus registry served at /metrics. */
  readonly metrics: Registry;
  /** Cookies with the Secure flag (behind HTTPS). */
  readonly secureCookies: boolean;
  /** How long the dashboard's figures are reused (ms; 0: computed on every request). Default 60 s. */
  readonly dashboardCacheMs?: number;
  /** Mounted at /admin/queues for admins when given. */
  readonly bullBoard?: import('hono').Hono;
  /**
   * Proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client (TRUSTED_PROXIES);
   * from any other address the header is ignored. Default: none.
   */
  readonly trustedProxies?: readonly string[];
  /** A session ends this long after sign-in, however active (SESSION_MAX_AGE_HOURS). Default 24 h. */
  readonly sessionMaxAgeSeconds?: number;
  /** When set, GET /metrics needs `Authorization: Bearer <token>` (METRICS_TOKEN). */
  readonly metricsToken?: string;
  /** "Test connection" may reach loopback, private and link-local addresses (ALLOW_PRIVATE_NETWORKS). */
  readonly allowPrivateNetworks?: boolean;
  /** Matches that appeared or changed, for the live inbox (server-sent events at /inbox/events). */
  readonly live?: import('./live.ts').LiveMatches;
  /** Whether PostgreSQL and Redis answer (GET /healthz). */
  health(): Promise<{ db: boolean; redis: boolean }>;
}

/** Hono environment of every route: the signed-in user (or null), the language and the CSRF token. */
export type AppEnv = {
  Variables: {
    deps: WebDeps;
    user: SessionUser | null;
    lang: Lang;
    /** Put in every form as the hidden field `_csrf`; checked on every unsafe request. */
    csrfToken: string;
    /** How `user` was established: the session cookie, an API token (no CSRF needed), or not at all. */
    auth: 'session' | 'token' | null;
    /** When the session's user last gave their password (its creation); null without a session. */
    signedInAt: Date | null;
    /** The organisation's time zone (IANA) every time is shown in; UTC before sign-in. */
    timeZone: string;
    /** This response's CSP nonce: every inline `<script>`/`<style>` carries `nonce="…"` (layout.ts does). */
    nonce: string;
  };
};
