/**
 * Measures how long kikimimi takes to recover when a worker process dies (SIGKILL), with the
 * production defaults (lease TTL and BullMQ job lock): shared by takeover.test.ts (one round, a
 * generous bound) and bench/takeover-bench.ts (several rounds, figures printed).
 */
import type { ChildProcess } from 'node:child_process';
import type { WorkerOptions } from '../src/worker.ts';
import { kill, spawnWorker } from './processes.ts';
import { type TestWorld, waitFor } from './world.ts';

type Options = Omit<WorkerOptions, 'log'>;

/** The world's worker options without the tests' short job lock and lease: what production runs. */
export function productionOptions(w: TestWorld): Options {
  const { jobLockMs: _jobLockMs, leaseTtlMs: _leaseTtlMs, ...options } = w.workerOptions;
  return options;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A review message for a new post (by the given worker), found by a tag in its text. */
async function reviewMessageFor(w: TestWorld, tag: string, timeoutMs = 60_000) {
  w.x.addPost({ text: `shiorinote ${tag} ログインできない`, author: { handle: `t${Date.now() % 1e9}` } });
  return w.discord.waitForMessage(
    (m) => !m.ephemeral && JSON.stringify(m.embeds).includes(tag) && m.components.length > 0,
    timeoutMs,
  );
}

function replyButtonOf(message: { components: readonly unknown[] }): string {
  const match = /"custom_id":"(kk:r:[0-9a-f-]{36}):[a-z]+"/u.exec(JSON.stringify(message.components));
  if (match === null) throw new Error('the review message has no reply button');
  return `${match[1]}:guidance`;
}

export interface GatewayTakeover {
  /** From the SIGKILL of the gateway holder to the other worker's gateway session being up. */
  readonly connectedMs: number;
  /** From the SIGKILL to the first reviewer click the other worker answers (a modal). */
  readonly handledMs: number;
}

/**
 * `rounds` times: kill the worker holding the Discord gateway while another one stands by, and time
 * until the standby is connected and answers a click; a fresh standby is started after each round.
 */
export async function measureGatewayTakeover(
  w: TestWorld,
  options: Options,
  rounds: number,
  children: ChildProcess[],
): Promise<GatewayTakeover[]> {
  let holder = await spawnWorker(options);
  children.push(holder);
  const message = await reviewMessageFor(w, `gw${Date.now()}`);
  const customId = replyButtonOf(message);
  const userId = w.discord.userId('alice');
  await waitFor(() => w.discord.connectedClients === 1, 30_000, 'the first gateway session');
  const results: GatewayTakeover[] = [];
  for (let round = 0; round < rounds; round++) {
    const standby = await spawnWorker(options);
    children.push(standby);
    await sleep(1_000); // the standby is up and trying the lease
    if (w.discord.connectedClients !== 1) throw new Error('expected exactly one gateway session');
    await kill(holder, 'SIGKILL');
    const killedAt = performance.now();
    // Clicks go out every 200 ms without waiting for the one before: a click sent to the dead
    // session (the stand-in keeps it for a RESUME) only fails after Discord's 3 s window.
    let connectedMs: number | undefined;
    let handledMs: number | undefined;
    const clicks: Promise<unknown>[] = [];
    while (handledMs === undefined) {
      const elapsed = performance.now() - killedAt;
      if (elapsed > 120_000) throw new Error('no takeover within 120 s');
      if (connectedMs === undefined && w.discord.connectedClients > 0) connectedMs = elapsed;
      clicks.push(
        w.discord.clickButton({ messageId: message.id, customId, userId }).then((outcome) => {
          if (outcome.type === 'modal') handledMs ??= performance.now() - killedAt;
        }),
      );
      await sleep(200);
    }
    await Promise.allSettled(clicks);
    results.push({ connectedMs: connectedMs ?? handledMs, handledMs });
    holder = standby;
  }
  return results;
}

/**
 * `rounds` times: kill a worker while it is in the middle of a job (a notify job whose Discord request
 * the stand-in holds for 2 minutes) and time until another worker has completed that job (the review
 * message is in Discord). The worker that took over is the one killed in the next round.
 */
export async function measureJobTakeover(
  w: TestWorld,
  options: Options,
  rounds: number,
  children: ChildProcess[],
): Promise<number[]> {
  let busy = await spawnWorker(options);
  children.push(busy);
  await reviewMessageFor(w, `warm${Date.now()}`); // the worker is polling and notifying
  const results: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // Held long enough that the killed worker's request cannot be what delivers the message.
    w.discord.faults.inject({
      fault: { kind: 'slow', delayMs: 120_000 },
      path: '/api/v10/channels/',
      method: 'POST',
    });
    const tag = `job${Date.now()}r${round}`;
    const delivered = reviewMessageFor(w, tag, 180_000);
    await waitFor(() => w.discord.faults.pending === 0, 60_000, 'the notify job to be under way');
    const other = await spawnWorker(options);
    children.push(other);
    await kill(busy, 'SIGKILL');
    const killedAt = performance.now();
    await delivered;
    results.push(performance.now() - killedAt);
    busy = other;
  }
  return results;
}

export function summary(label: string, values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return `${label}: ${values.map(s).join(', ')} (min ${s(sorted[0] ?? 0)}, median ${s(sorted[Math.floor(sorted.length / 2)] ?? 0)}, max ${s(sorted[sorted.length - 1] ?? 0)})`;
}
