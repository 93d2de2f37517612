import { type Enqueue as EnqueueJob, jobId } from '@kikimimi/desk';
import type { Post } from '@kikimimi/rules';
import type { Redis } from 'ioredis';
import { runWithLease } from '../lease.ts';
import { sourcesFor } from '../sources.ts';
import type { PipelineDeps } from './deps.ts';

const FLUSH_MS = 100;
const FLUSH_SIZE = 100;

/**
 * Holds every streaming source of every enabled account, each under its own Redis lease so that
 * replicas never double-read. Posts that match a watch are handed to the ingest queue in small
 * batches; the rest of a public stream is not kept.
 */
export async function runStreams(
  redis: Redis,
  enqueue: EnqueueJob,
  prefix: string,
  deps: PipelineDeps,
  signal: AbortSignal,
  leaseTtlMs?: number,
): Promise<void> {
  const accounts = (await deps.store.accounts.list()).filter((a) => a.enabled && a.streamEnabled);
  const { engine } = await deps.engines.current();
  const holders: Promise<void>[] = [];
  for (const account of accounts) {
    for (const source of sourcesFor(account, engine).stream) {
      const key = `${prefix}:lease:stream:${account.id}:${source.key}`;
      holders.push(
        runWithLease(
          redis,
          key,
          async (held) => {
            const connector = await deps.connectors.get(account);
            if (connector.stream === undefined) return;
            let batch: Post[] = [];
            let seq = 0;
            const flush = async () => {
              if (batch.length === 0) return;
              const posts = batch;
              batch = [];
              await enqueue(
                'ingest',
                { accountId: account.id, sourceKey: source.key, posts },
                { jobId: jobId('ingest', `${account.id}-${Date.now()}-${seq++}`) },
              );
            };
            const timer = setInterval(() => {
              flush().catch((error: unknown) =>
                deps.log.warn({ error: String(error) }, 'stream flush failed'),
              );
            }, FLUSH_MS);
            deps.metrics.streams.inc();
            try {
              for await (const event of connector.stream(source, {
                signal: held,
                onState: (state, detail) =>
                  deps.log.info({ account: account.label, source: source.key, state, detail }, 'stream'),
              })) {
                if (event.kind !== 'post') continue;
                const { post } = event;
                const { engine: current } = await deps.engines.current();
                if (current.matchWatches(post).length === 0) continue;
                batch.push(post);
                if (batch.length >= FLUSH_SIZE) await flush();
              }
            } finally {
              clearInterval(timer);
              await flush().catch(() => {});
              deps.metrics.streams.dec();
            }
          },
          {
            signal,
            name: `stream ${source.key} of account ${account.label}`,
            log: deps.log,
            ...(leaseTtlMs ? { ttlMs: leaseTtlMs, retryMs: Math.max(200, leaseTtlMs / 3) } : {}),
          },
        ),
      );
    }
  }
  await Promise.all(holders);
}
