/**
 * Recovery after a worker dies (SIGKILL), with the production defaults (lease TTL 6 s renewed every
 * 1.5 s, retry 1 s; BullMQ job lock 5 s with a stalled check every 2.5 s). Figures are printed with
 * PASS/MISS against the targets, never asserted.
 *
 *   node apps/worker/bench/takeover-bench.ts [--rounds 5] [--parts gateway,job]
 *
 * gateway: two worker processes; the one holding the Discord gateway is killed and the time until the
 *   other's gateway session is connected, and until it answers a reviewer's click, is measured.
 *   Target: within 10 s (the README's promise).
 * job: a worker is killed while a notify job is under way (the Discord stand-in holds its request
 *   for 2 minutes) and the time until another worker has completed the job (the review message is in
 *   Discord) is measured. Target: < 10 s.
 *
 * Each round kills the worker that took over in the round before. Everything made (schemas, Redis
 * keys, stand-ins, child processes) is removed at the end.
 */
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { kill } from '../test/processes.ts';
import { measureGatewayTakeover, measureJobTakeover, productionOptions, summary } from '../test/takeover.ts';
import { createTestWorld } from '../test/world.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    parts: { type: 'string', default: 'gateway,job' },
  },
});
const rounds = Number(values.rounds);
const parts = new Set(values.parts.split(','));
const children: ChildProcess[] = [];
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

const verdict = (values: readonly number[], targetMs: number) =>
  Math.max(...values) < targetMs ? 'PASS' : 'MISS';

if (parts.has('gateway')) {
  const world = await createTestWorld();
  try {
    const results = await measureGatewayTakeover(world, productionOptions(world), rounds, children);
    console.log(
      summary(
        'gateway takeover, session connected',
        results.map((r) => r.connectedMs),
      ),
    );
    const handled = results.map((r) => r.handledMs);
    console.log(
      `${summary('gateway takeover, click answered  ', handled)} — target 10 s: ${verdict(handled, 10_000)}`,
    );
  } finally {
    await Promise.all(children.splice(0).map((child) => kill(child)));
    await world.close();
  }
}
if (parts.has('job')) {
  const world = await createTestWorld();
  try {
    const results = await measureJobTakeover(world, productionOptions(world), rounds, children);
    console.log(
      `${summary('job takeover, job completed       ', results)} — target 10 s: ${verdict(results, 10_000)}`,
    );
  } finally {
    await Promise.all(children.splice(0).map((child) => kill(child)));
    await world.close();
  }
}
// The stand-in still holds the killed worker's request: don't wait for it.
process.exit(0);
