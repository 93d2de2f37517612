import { defineConfig } from 'vitest/config';

/**
 * What every workspace's tests share. CI runs on a small shared machine whose speed varies two- or
 * threefold from one day to the next: vitest's 5 s test and 10 s hook defaults would turn a slow day
 * into failures. Tests that wait for something say how long themselves.
 */
export const shared = defineConfig({
  test: { testTimeout: 30_000, hookTimeout: 60_000 },
});
