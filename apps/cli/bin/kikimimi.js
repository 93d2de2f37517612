#!/usr/bin/env node
// Thin launcher: kikimimi runs its TypeScript sources directly on Node 24 (type stripping, see docs/adr/001).
import '../src/main.ts';
