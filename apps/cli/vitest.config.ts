import { defineConfig } from 'vitest/config';

// Every test here starts kikimimi in a process of its own (Node start-up and module loading take
// 1–3 s each on a slow, shared CI machine, several per test): vitest's 5 s default is too tight.
export default defineConfig({
  test: { testTimeout: 60_000 },
});
