import { DelayedError, type Job } from 'bullmq';
import { describe, expect, it, vi } from 'vitest';
import { DiscordBusyError } from './discord/port.ts';
import { REVIEW_PRIORITY } from './pipeline/review-queue.ts';
import { CASE_EVENT_RETRY_MS, PROCESSORS, type ProcessorContext, STEP_BACK_SPREAD_MS } from './processors.ts';

const NOW = Date.parse('2026-12-05T10:00:00Z');

function context(heldUntil: Date | null) {
  const post = vi.fn(async () => 'posted' as const);
  const deps = {
    notifier: { post },
    store: { surges: { heldUntil: async () => heldUntil } },
    now: () => new Date(NOW),
  };
  return { post, context: { deps } as unknown as ProcessorContext };
}

describe('the notify job', () => {
  it('puts itself back until the hold its match is under ends, without posting', async () => {
    const { post, context: ctx } = context(new Date(NOW + 5_000));
    const moveToDelayed = vi.fn(async () => {});
    const job = { token: 'token-1', moveToDelayed } as unknown as Job;
    const before = Date.now();
    await expect(PROCESSORS.notify({ matchId: 'm1' }, job, ctx)).rejects.toBeInstanceOf(DelayedError);
    expect(post).not.toHaveBeenCalled();
    expect(moveToDelayed).toHaveBeenCalledTimes(1);
    const [until, token] = moveToDelayed.mock.calls[0] as unknown as [number, string];
    expect(token).toBe('token-1');
    // Five seconds from now on the real clock (BullMQ's), whatever the pipeline's clock says.
    expect(until).toBeGreaterThanOrEqual(before + 5_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 5_000);
  });

  it('posts at once when the hold is over or there is none', async () => {
    for (const heldUntil of [null, new Date(NOW), new Date(NOW - 1_000)]) {
      const { post, context: ctx } = context(heldUntil);
      const moveToDelayed = vi.fn(async () => {});
      const job = { token: 't', moveToDelayed } as unknown as Job;
      await expect(PROCESSORS.notify({ matchId: 'm1' }, job, ctx)).resolves.toBe('posted');
      expect(post).toHaveBeenCalledWith('m1');
      expect(moveToDelayed).not.toHaveBeenCalled();
    }
  });

  it("puts itself back for the time Discord needs when the match's channel is busy, freeing its slot", async () => {
    const { post, context: ctx } = context(null);
    post.mockRejectedValueOnce(new DiscordBusyError(1_200));
    const moveToDelayed = vi.fn(async () => {});
    const changePriority = vi.fn(async () => {});
    const job = {
      token: 'token-2',
      priority: REVIEW_PRIORITY.fresh,
      moveToDelayed,
      changePriority,
    } as unknown as Job;
    const before = Date.now();
    await expect(PROCESSORS.notify({ matchId: 'm2' }, job, ctx)).rejects.toBeInstanceOf(DelayedError);
    expect(moveToDelayed).toHaveBeenCalledTimes(1);
    // It returns ahead of the reviews that came after it (review-queue.ts).
    expect(changePriority).toHaveBeenCalledWith({ priority: REVIEW_PRIORITY.steppedBack });
    const [until, token] = moveToDelayed.mock.calls[0] as unknown as [number, string];
    expect(token).toBe('token-2');
    expect(until).toBeGreaterThanOrEqual(before + 1_200);
    // …up to STEP_BACK_SPREAD_MS later, so that reviews told the same time do not all return at once.
    expect(until).toBeLessThan(Date.now() + 1_200 + STEP_BACK_SPREAD_MS);
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.99);
    post.mockRejectedValueOnce(new DiscordBusyError(1_200));
    const again = Date.now();
    await expect(PROCESSORS.notify({ matchId: 'm2' }, job, ctx)).rejects.toBeInstanceOf(DelayedError);
    random.mockRestore();
    const [later] = moveToDelayed.mock.calls[1] as unknown as [number, string];
    expect(later).toBeGreaterThanOrEqual(again + 1_200 + STEP_BACK_SPREAD_MS * 0.99 - 1);
    // Any other failure is the job's failure (retried by BullMQ as usual).
    post.mockRejectedValueOnce(new Error('boom'));
    await expect(PROCESSORS.notify({ matchId: 'm2' }, job, ctx)).rejects.toThrow('boom');
    expect(moveToDelayed).toHaveBeenCalledTimes(2);
  });
});

describe('the caseUpdate job', () => {
  it('puts itself back for a moment while the review message is on its way, and ends once it is shown', async () => {
    const caseEvent = vi.fn(async () => 'waiting' as 'waiting' | 'posted');
    const ctx = { deps: { notifier: { caseEvent } } } as unknown as ProcessorContext;
    const moveToDelayed = vi.fn(async () => {});
    const job = { token: 'token-3', moveToDelayed } as unknown as Job;
    const payload = { matchId: 'm3', eventId: 'e3' };
    const before = Date.now();
    await expect(PROCESSORS.caseUpdate(payload, job, ctx)).rejects.toBeInstanceOf(DelayedError);
    const [until, token] = moveToDelayed.mock.calls[0] as unknown as [number, string];
    expect(token).toBe('token-3');
    expect(until).toBeGreaterThanOrEqual(before + CASE_EVENT_RETRY_MS);
    caseEvent.mockResolvedValueOnce('posted');
    await expect(PROCESSORS.caseUpdate(payload, job, ctx)).resolves.toBe('posted');
    expect(caseEvent).toHaveBeenLastCalledWith('m3', 'e3', { notify: false });
    expect(moveToDelayed).toHaveBeenCalledTimes(1);
  });
});
