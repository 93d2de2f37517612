#!/usr/bin/env node
// Thin launcher: kikimimi runs its TypeScript sources directly on Node 24 (type stripping, docs/adr/001).
import { runCli } from '../src/main.ts';

process.exitCode = await runCli(process.argv.slice(2), process);
