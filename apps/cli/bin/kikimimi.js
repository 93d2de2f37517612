#!/usr/bin/env node
// Thin launcher: kikimimi runs its TypeScript sources directly on Node 24 (type stripping, docs/adr/001).
import { main } from '../src/main.ts';

await main();
