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
 * batches; the rest of a public stream is not kept. An author's edit (of a post we keep, or one that
 * matches now) and deletion (of a post we keep) become a `postChange` job each; one that concerns a
 * post still waiting in the batch changes the batch instead.
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
                const { engine: current } = await deps.engines.current();
                if (event.kind === 'post') {
                  if (current.matchWatches(event.post).length === 0) continue;
                  batch.push(event.post);
                  if (batch.length >= FLUSH_SIZE) await flush();
                  continue;
                }
                const postId = event.kind === 'edit' ? event.post.id : event.postId;
                const pending = batch.findIndex((p) => p.id === postId);
                if (pending >= 0) {
                  // Not handed on yet: the batch takes the post as it now reads, or drops it.
                  if (event.kind === 'edit' && current.matchWatches(event.post).length > 0)
                    batch[pending] = event.post;
                  else batch.splice(pending, 1);
                  continue;
                }
                // Only posts we keep matter: a public stream reports every edit and deletion it carries.
                const wanted =
                  (event.kind === 'edit' && current.matchWatches(event.post).length > 0) ||
                  (await deps.store.posts.isStored(source.platform, postId));
                if (!wanted) continue;
                // The post's own batch goes first, so that its ingest job is queued before the change.
                await flush();
                await enqueue(
                  'postChange',
                  {
                    accountId: account.id,
                    change:
                      event.kind === 'edit'
                        ? { kind: 'edit', post: event.post }
                        : { kind: 'delete', platform: event.platform, postId },
                  },
                  { jobId: jobId('postChange', `${account.id}-${Date.now()}-${seq++}`) },
                );
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
