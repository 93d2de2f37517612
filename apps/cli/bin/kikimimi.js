#!/usr/bin/env -S node --max-semi-space-size=8
// --max-semi-space-size=8: without it V8 keeps the young generation it grew while loading the modules
// (Node 24 on a large machine), and an idle worker sits at ~300 MB RSS instead of ~170 MB (measured,
// apps/worker/bench/pipeline-bench.ts).
// Thin launcher: kikimimi runs its TypeScript sources directly on Node 24 (type stripping, docs/adr/001).
// The version check is imported (and so run) before the TypeScript is loaded, which happens only then.
import './check-node.js';

const { main } = await import('../src/main.ts');
await main();
