import type { DemoWorld } from '@kikimimi/worker';
import type { DemoMode } from './world.ts';

/**
 * The demo world for `KIKIMIMI_DEMO`, or none when it is `off`: only then are the stand-in platforms
 * (@kikimimi/sandbox) never loaded. `auto` still runs it, to turn the demo accounts off once a real
 * account is connected.
 */
export async function loadDemoWorld(options: {
  mode: DemoMode;
  perMinute: number;
}): Promise<DemoWorld | undefined> {
  if (options.mode === 'off') return undefined;
  const { createDemoWorld } = await import('./world.ts');
  return createDemoWorld(options);
}
