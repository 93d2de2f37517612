import { Hono } from 'hono';
import type { AppEnv } from '../../context.ts';
import { configApiRoutes } from './api.ts';
import { registerDiscordRoutes } from './discord.ts';
import { registerEscalationRoutes } from './escalation.ts';
import { registerImportExportRoutes } from './import-export.ts';
import { registerOrganizationRoutes } from './organization.ts';
import { registerPlatformRoutes } from './platforms.ts';
import { registerSuppressionRoutes } from './suppression.ts';
import { registerTemplateRoutes } from './templates.ts';
import { registerWatchRoutes } from './watches.ts';

/**
 * The configuration pages, mounted at '/': /platforms, /discord, /watches, /templates, /escalation,
 * /suppression, /import-export and /organization (the time zone). Viewers read; editors change watches, templates, escalation,
 * suppression, routing and search options; admins also accounts, Discord settings and imports.
 */
export function configRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  registerPlatformRoutes(app);
  registerDiscordRoutes(app);
  registerWatchRoutes(app);
  registerTemplateRoutes(app);
  registerEscalationRoutes(app);
  registerSuppressionRoutes(app);
  registerImportExportRoutes(app);
  registerOrganizationRoutes(app);
  return app;
}

/** The configuration's JSON API, mounted at '/api' (see docs/api/config.md). */
export function configApi(): Hono<AppEnv> {
  return configApiRoutes();
}
