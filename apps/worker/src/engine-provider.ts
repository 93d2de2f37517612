import { type Config, loadConfig, type RulesEngine } from '@kikimimi/rules';
import type { ConfigStore } from './ports.ts';

/** The current configuration compiled once per version; reloaded when the console says it changed. */
export interface EngineProvider {
  current(): Promise<{ version: number; config: Config; engine: RulesEngine }>;
  /** Forget the cached version (after a config-changed message). */
  invalidate(): void;
}

export function createEngineProvider(
  store: ConfigStore,
  options: { maxAgeMs?: number } = {},
): EngineProvider {
  const maxAgeMs = options.maxAgeMs ?? 30_000;
  let cached: { version: number; config: Config; engine: RulesEngine; loadedAt: number } | null = null;
  let loading: Promise<{ version: number; config: Config; engine: RulesEngine }> | null = null;

  const load = async () => {
    const { version, config } = await store.current();
    if (cached !== null && cached.version === version) {
      cached.loadedAt = Date.now();
      return cached;
    }
    const loaded = loadConfig(config);
    if (!loaded.ok) {
      // Saved configurations are validated before saving; this means a rules upgrade changed the rules.
      throw new Error(
        `configuration version ${version} no longer loads: ${loaded.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      );
    }
    cached = { version, config: loaded.config, engine: loaded.engine, loadedAt: Date.now() };
    return cached;
  };

  return {
    async current() {
      if (cached !== null && Date.now() - cached.loadedAt < maxAgeMs) return cached;
      loading ??= load().finally(() => {
        loading = null;
      });
      return loading;
    },
    invalidate() {
      if (cached !== null) cached.loadedAt = 0;
    },
  };
}
