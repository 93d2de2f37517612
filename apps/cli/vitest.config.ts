import { defineConfig, mergeConfig } from 'vitest/config';
import { shared } from '../../vitest.shared.ts';

// Every test here starts kikimimi in a process of its own, several times: a minute each.
export default mergeConfig(shared, defineConfig({ test: { testTimeout: 60_000 } }));
