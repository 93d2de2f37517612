#!/usr/bin/env node
// The npm registry this project is built against serves only Linux builds of packages that ship
// per-platform binaries (turbo, biome), so `npm install` leaves their other platforms' optional
// dependencies out of package-lock.json, and `npm ci` then refuses the lock file as out of sync.
// This adds the missing entries (as optional, version only), which is what a lock file made against
// the full registry contains; npm skips them on platforms they are not for.
//
//   node scripts/complete-lockfile.mjs          fix package-lock.json in place (run after npm install)
//   node scripts/complete-lockfile.mjs --check  exit 1 if entries are missing (run by npm test)
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const check = process.argv.includes('--check');
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
const missing = [];
for (const [path, meta] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    if (packages[`node_modules/${name}`] || packages[`${path}/node_modules/${name}`]) continue;
    missing.push(name);
    packages[`node_modules/${name}`] = { version, ...(meta.dev ? { dev: true } : {}), optional: true };
  }
}
if (check) {
  if (missing.length > 0) {
    console.error(
      `package-lock.json lacks ${missing.length} optional platform package(s) (${missing.join(', ')}).`,
    );
    console.error(
      'Run `node scripts/complete-lockfile.mjs` after `npm install`, or `npm ci` fails on a clean clone.',
    );
    process.exit(1);
  }
} else {
  const sorted = Object.entries(packages).sort(([a], [b]) =>
    a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0,
  );
  lock.packages = Object.fromEntries(sorted);
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(
    missing.length > 0
      ? `added ${missing.length} entries: ${missing.join(', ')}`
      : 'package-lock.json is complete',
  );
}
