import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SURGE_DEFAULTS } from '../config.ts';
import { loadConfig } from '../load-config.ts';

describe('the surges section of the configuration', () => {
  it('is optional: a configuration without it loads with the documented defaults', () => {
    const loaded = loadConfig({ watches: [{ id: 'w', query: 'ブクログ' }] });
    expect(loaded.ok && loaded.config.surges).toEqual({
      enabled: true,
      windowMinutes: 10,
      minCount: 20,
      factor: 4,
      similarity: 0.3,
      quietMinutes: 30,
      baselineWeeks: 4,
      holdSeconds: 0,
      replyIntervalSeconds: 30,
    });
    expect(loaded.ok && loaded.config.surges).toEqual(SURGE_DEFAULTS);
  });

  it('takes some settings and defaults the rest', () => {
    const loaded = loadConfig({ surges: { minCount: 50, enabled: false } });
    expect(loaded.ok && loaded.config.surges).toEqual({ ...SURGE_DEFAULTS, minCount: 50, enabled: false });
  });

  it('lists every bad setting with its path, and nothing is loaded', () => {
    const loaded = loadConfig({
      surges: {
        windowMinutes: 0,
        minCount: 1.5,
        factor: 'four',
        similarity: 2,
        quietMinutes: -1,
        baselineWeeks: 13,
        holdSeconds: 601,
        replyIntervalSeconds: 0,
      },
    });
    expect(loaded.ok).toBe(false);
    const problems = loaded.ok ? [] : loaded.problems;
    expect(problems.map((p) => p.path)).toEqual([
      'surges.windowMinutes',
      'surges.minCount',
      'surges.factor',
      'surges.similarity',
      'surges.quietMinutes',
      'surges.baselineWeeks',
      'surges.holdSeconds',
      'surges.replyIntervalSeconds',
    ]);
    for (const problem of problems) expect(problem.message).not.toBe('');
  });

  it("phrases the schema's problems in the reader's language", () => {
    const loaded = loadConfig({ surges: { windowMinutes: 500 } }, { error: z.locales.ja().localeError });
    const [problem] = loaded.ok ? [] : loaded.problems;
    expect(problem?.path).toBe('surges.windowMinutes');
    expect(problem?.message).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/u);
    expect(problem?.message).toContain('120');
  });
});
