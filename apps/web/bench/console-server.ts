/**
 * The web console in its own process, for console-bench.ts (the load comes from the parent: a second
 * process on loopback). Not a production entry point.
 *
 *   KIKIMIMI_BENCH_WEB='{"databaseUrl":…,"databaseSchema":…,"redisUrl":…,"redisPrefix":…,"encryptionKey":…,
 *     "dashboardCacheSeconds":…}' \
 *     node apps/web/bench/console-server.ts     (started by console-bench.ts with an IPC channel)
 *
 * Runs the production `startWeb` (port 0, 127.0.0.1, migrations off: the parent migrated). Besides
 * serving, it measures itself and answers the parent over IPC:
 *  - `reset` / `collect`: server time of every request answered in between (from the HTTP server's
 *    'request' event to the response's 'finish': routing, middleware, queries, rendering, writing),
 *    the app's own `kikimimi_http_request_duration_seconds` histogram (its difference), the process's
 *    CPU time and the event-loop delay over the window;
 *  - `profile-start` / `profile-stop`: a V8 CPU profile of the window (inspector), summarised as the
 *    functions with the most self time and the share of idle time;
 *  - `close`: closes the console (connections, pool, Redis) and exits.
 * It exits by itself when the parent goes away (IPC channel closed).
 */
import http from 'node:http';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import type { Histogram } from 'prom-client';
import { startWeb } from '../src/main.ts';

interface ServerOptions {
  readonly databaseUrl: string;
  readonly databaseSchema: string;
  readonly redisUrl: string;
  readonly redisPrefix: string;
  readonly encryptionKey: string;
  /** DASHBOARD_CACHE_SECONDS of this console (0: the figures computed on every request). */
  readonly dashboardCacheSeconds: number;
}

export type BenchRequest =
  | { readonly cmd: 'reset' }
  | { readonly cmd: 'collect' }
  | { readonly cmd: 'profile-start' }
  | { readonly cmd: 'profile-stop'; readonly top: number }
  | { readonly cmd: 'close' };

/** Cumulative count per histogram bucket (upper bound in seconds, '+Inf' last) for one route. */
export type BucketCounts = Record<string, number>;

export interface CollectReply {
  readonly kind: 'collect';
  /** Server time of each request finished in the window, ms. */
  readonly serverMs: number[];
  /** Non-2xx/3xx answers in the window, by status. */
  readonly statuses: Record<string, number>;
  /** The app's histogram per route pattern, as the difference over the window. */
  readonly histogram: Record<string, BucketCounts>;
  readonly cpuMs: { readonly user: number; readonly system: number };
  readonly wallMs: number;
  readonly eventLoopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly rssMb: number;
  /** Requests still being answered when the window closed. */
  readonly inFlight: number;
}

export interface ProfileReply {
  readonly kind: 'profile';
  readonly totalMs: number;
  readonly idleMs: number;
  readonly gcMs: number;
  readonly top: ReadonlyArray<{ readonly fn: string; readonly where: string; readonly selfMs: number }>;
  /** Self time per package (node_modules/<pkg>, our workspaces, node internals). */
  readonly byPackage: ReadonlyArray<{ readonly pkg: string; readonly selfMs: number }>;
}

const raw = process.env.KIKIMIMI_BENCH_WEB;
if (raw === undefined || raw === '' || process.send === undefined) {
  console.error('console-server: start it through console-bench.ts (IPC channel and KIKIMIMI_BENCH_WEB)');
  process.exit(2);
}
const options = JSON.parse(raw) as ServerOptions;
const send = (message: unknown) => process.send?.(message);

// ---------------------------------------------------------------------------------------------------
// Server time of every request, measured at the HTTP server (no change to the app).

let serverMs: number[] = [];
let statuses: Record<string, number> = {};
/** Requests received and not yet answered (or abandoned). */
let inFlight = 0;
const originalEmit = http.Server.prototype.emit;
http.Server.prototype.emit = function emit(this: http.Server, event: string | symbol, ...args: unknown[]) {
  if (event === 'request') {
    const response = args[1] as http.ServerResponse;
    const start = performance.now();
    inFlight += 1;
    response.once('close', () => {
      inFlight -= 1;
    });
    response.once('finish', () => {
      serverMs.push(performance.now() - start);
      if (response.statusCode >= 400) {
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
      }
    });
  }
  return Reflect.apply(originalEmit, this, [event, ...args]) as boolean;
} as typeof http.Server.prototype.emit;

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

const web = await startWeb({
  databaseUrl: options.databaseUrl,
  databaseSchema: options.databaseSchema,
  redisUrl: options.redisUrl,
  redisPrefix: options.redisPrefix,
  encryptionKey: options.encryptionKey,
  dashboardCacheSeconds: options.dashboardCacheSeconds,
  host: '127.0.0.1',
  port: 0,
  migrate: false,
  log: pino({ level: process.env.KIKIMIMI_LOG_LEVEL ?? 'warn' }, pino.destination(2)),
});

// ---------------------------------------------------------------------------------------------------
// The app's own histogram, per route pattern (cumulative; the parent gets differences).

const HISTOGRAM = 'kikimimi_http_request_duration_seconds';
async function histogramNow(): Promise<Record<string, BucketCounts>> {
  const metric = web.deps.metrics.getSingleMetric(HISTOGRAM) as Histogram | undefined;
  if (metric === undefined) return {};
  const out: Record<string, BucketCounts> = {};
  for (const value of (await metric.get()).values) {
    if (value.metricName !== `${HISTOGRAM}_bucket`) continue;
    const route = `${value.labels.method} ${value.labels.route}`;
    const le = String(value.labels.le);
    const buckets = out[route] ?? {};
    buckets[le] = (buckets[le] ?? 0) + value.value;
    out[route] = buckets;
  }
  return out;
}

let window = {
  start: performance.now(),
  cpu: process.cpuUsage(),
  histogram: {} as Record<string, BucketCounts>,
};

/** Starts a window once the previous run's requests are answered (at most 20 s). */
async function reset() {
  const deadline = performance.now() + 20_000;
  while (inFlight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  serverMs = [];
  statuses = {};
  loopDelay.reset();
  window = { start: performance.now(), cpu: process.cpuUsage(), histogram: await histogramNow() };
}

async function collect(): Promise<CollectReply> {
  const cpu = process.cpuUsage(window.cpu);
  const now = await histogramNow();
  const histogram: Record<string, BucketCounts> = {};
  for (const [route, buckets] of Object.entries(now)) {
    const before = window.histogram[route] ?? {};
    const diff: BucketCounts = {};
    let any = false;
    for (const [le, count] of Object.entries(buckets)) {
      diff[le] = count - (before[le] ?? 0);
      if (diff[le] !== 0) any = true;
    }
    if (any) histogram[route] = diff;
  }
  const ms = (ns: number) => ns / 1e6;
  return {
    kind: 'collect',
    serverMs,
    statuses,
    histogram,
    cpuMs: { user: cpu.user / 1000, system: cpu.system / 1000 },
    wallMs: performance.now() - window.start,
    eventLoopDelayMs: {
      p50: ms(loopDelay.percentile(50)),
      p99: ms(loopDelay.percentile(99)),
      max: ms(loopDelay.max),
    },
    rssMb: process.memoryUsage().rss / 1_048_576,
    inFlight,
  };
}

// ---------------------------------------------------------------------------------------------------
// CPU profile of a window, summarised here (the raw profile never leaves the process).

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

let inspector: Session | null = null;

async function profileStart() {
  inspector = new Session();
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.setSamplingInterval', { interval: 500 });
  await inspector.post('Profiler.start');
}

function packageOf(url: string): string {
  if (url === '') return '(native/V8)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const ws = /\/(apps|packages)\/([^/]+)\//u.exec(url);
  return ws ? `${ws[1]}/${ws[2]}` : url;
}

async function profileStop(top: number): Promise<ProfileReply> {
  if (inspector === null) throw new Error('no profile running');
  const { profile } = (await inspector.post('Profiler.stop')) as unknown as { profile: Profile };
  inspector.disconnect();
  inspector = null;
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byFn = new Map<string, { fn: string; where: string; selfMs: number }>();
  const byPkg = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    if (functionName === '(garbage collector)') gc += us;
    const shortUrl = url.replace(/^file:\/\/.*?\/(node_modules|apps|packages)\//u, '$1/');
    const where = url === '' ? '' : `${shortUrl}:${lineNumber + 1}`;
    const key = `${functionName}@${where}`;
    const entry = byFn.get(key) ?? { fn: functionName || '(anonymous)', where, selfMs: 0 };
    entry.selfMs += us / 1000;
    byFn.set(key, entry);
    const pkg = functionName === '(garbage collector)' ? '(garbage collector)' : packageOf(url);
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + us / 1000);
  }
  return {
    kind: 'profile',
    totalMs: (profile.endTime - profile.startTime) / 1000,
    idleMs: idle / 1000,
    gcMs: gc / 1000,
    top: [...byFn.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top),
    byPackage: [...byPkg.entries()]
      .map(([pkg, selfMs]) => ({ pkg, selfMs }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, 12),
  };
}

// ---------------------------------------------------------------------------------------------------

let closing = false;
async function close(code: number) {
  if (closing) return;
  closing = true;
  setTimeout(() => process.exit(code), 10_000).unref();
  try {
    await web.close(1_000);
  } finally {
    process.exit(code);
  }
}

process.on('message', (message: BenchRequest) => {
  const answer = async () => {
    switch (message.cmd) {
      case 'reset':
        await reset();
        return { kind: 'ok' };
      case 'collect':
        return collect();
      case 'profile-start':
        await profileStart();
        return { kind: 'ok' };
      case 'profile-stop':
        return profileStop(message.top);
      case 'close':
        await close(0);
        return { kind: 'ok' };
    }
  };
  answer().then(send, (error: unknown) => send({ kind: 'error', message: String(error) }));
});
process.on('disconnect', () => void close(0));
process.once('SIGTERM', () => void close(0));
process.once('SIGINT', () => void close(0));

send({ kind: 'ready', url: web.url, pid: process.pid });
