import { type Enqueue as EnqueueJob, jobId } from '@kikimimi/desk';
import type { Post } from '@kikimimi/rules';
import type { Redis } from 'ioredis';
import { runWithLease } from '../lease.ts';
import { sourcesFor } from '../sources.ts';
import type { PipelineDeps } from './deps.ts';

const FLUSH_MS = 100;
const FLUSH_SIZE = 100;
/** A stream position without posts (nothing matched for a while) is stored at most this often. */
const CURSOR_ONLY_MS = 5_000;

/**
 * Holds every streaming source of every enabled account, each under its own Redis lease so that
 * replicas never double-read. Posts that match a watch are handed to the ingest queue in small
 * batches; the rest of a public stream is not kept. A stream that can resume (Bluesky's firehose)
 * hands its position on with each batch, stored with the batch's posts in one transaction
 * (source_states, under the source's key), and resumes from the stored one after a restart or a
 * lost lease: a post is not lost (its position is stored with it or after it) and not repeated
 * (re-read events, e.g. after an older batch's job ran last, are skipped as already stored). An author's edit (of a post we keep, or one that
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
            const stored = (await deps.store.sources.get(account.id, source.key))?.cursor ?? null;
            let batch: Post[] = [];
            let seq = 0;
            // The position of the last event read, and the last one handed on.
            let position: string | null = stored;
            let handedOn: string | null = stored;
            let handedOnAt = Date.now();
            const flush = async (cursorOnly = false) => {
              const moved = position !== handedOn;
              if (batch.length === 0 && !(cursorOnly && moved)) return;
              const posts = batch;
              const cursor = position;
              batch = [];
              await enqueue(
                'ingest',
                {
                  accountId: account.id,
                  sourceKey: source.key,
                  posts,
                  ...(cursor !== null && moved ? { cursor } : {}),
                },
                { jobId: jobId('ingest', `${account.id}-${Date.now()}-${seq++}`) },
              );
              handedOn = cursor;
              handedOnAt = Date.now();
            };
            const timer = setInterval(() => {
              flush(Date.now() - handedOnAt >= CURSOR_ONLY_MS).catch((error: unknown) =>
                deps.log.warn({ error: String(error) }, 'stream flush failed'),
              );
            }, FLUSH_MS);
            deps.metrics.streams.inc();
            try {
              for await (const event of connector.stream(source, {
                signal: held,
                cursor: stored,
                onState: (state, detail) =>
                  deps.log.info({ account: account.label, source: source.key, state, detail }, 'stream'),
              })) {
                const { engine: current } = await deps.engines.current();
                // Whatever the event, the stream has read past it: handed on with the next batch.
                if (event.cursor !== undefined) position = event.cursor;
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
              await flush(true).catch(() => {});
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
