import type { GeneratedPost } from './generator.ts';
import { createRandom } from './random.ts';

export interface RunGeneratorOptions {
  readonly generator: { next(): GeneratedPost };
  /** Average posts per minute. */
  readonly perMinute: number;
  readonly emit: (post: GeneratedPost) => void | Promise<void>;
  readonly signal: AbortSignal;
  /** Posts to emit straight away before settling into the rate (so a demo shows something at once). */
  readonly burst?: number;
  /** Seed of the timing jitter, default 1. */
  readonly seed?: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Emits posts from `generator` at `perMinute` on average until `signal` aborts; gaps are jittered
 * (0.5–1.5 × the mean) so the stream does not tick like a clock. Emits are awaited one at a time; when
 * they or the timers fall behind, the posts that are due go out back to back, so the count over a
 * period stays close to perMinute × minutes. Resolves on abort; rejects if `emit` throws.
 */
export async function runGenerator(options: RunGeneratorOptions): Promise<void> {
  const { generator, perMinute, emit, signal } = options;
  if (!(perMinute > 0 && Number.isFinite(perMinute)))
    throw new Error('runGenerator: perMinute must be positive');
  const random = createRandom(options.seed ?? 1);
  const mean = 60_000 / perMinute;
  const gap = () => mean * (0.5 + random.next());

  for (let i = 0; i < (options.burst ?? 0) && !signal.aborted; i++) await emit(generator.next());

  let due = Date.now() + gap();
  while (!signal.aborted) {
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait, signal);
    if (signal.aborted) break;
    // Everything that is due, but never more than a minute's worth at once after a long stall.
    let sent = 0;
    while (due <= Date.now() && !signal.aborted && sent < Math.max(1, perMinute)) {
      await emit(generator.next());
      due += gap();
      sent++;
    }
    if (sent >= Math.max(1, perMinute)) due = Date.now() + gap();
  }
}
