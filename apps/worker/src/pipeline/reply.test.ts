import { TransientError } from '@kikimimi/connectors';
import { describe, expect, it } from 'vitest';
import { shownError } from './reply.ts';

describe('what a failed send shows reviewers', () => {
  it('keeps the platform’s answer', () => {
    expect(shownError(new TransientError('x', 'HTTP 503 from X'))).toBe('HTTP 503 from X');
  });

  it('never shows a database error’s SQL or parameters', () => {
    const driver = new Error(
      'Failed query: update "replies" set "state" = $1 where "replies"."id" = $2\nparams: sent,4f1c…',
      { cause: Object.assign(new Error('deadlock detected'), { code: '40P01' }) },
    );
    const shown = shownError(driver);
    expect(shown).not.toMatch(/update|replies|params|deadlock|\$1/iu);
    expect(shown).toMatch(/internal error/u);
  });
});
