import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { listenMetrics, type MetricsServer } from './metrics-server.ts';

/* Issue 14 item 15: the worker's metrics bind to the configured host and can ask for a bearer token. */

let running: MetricsServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe('the worker metrics server', () => {
  it('listens on the configured host only', async () => {
    running = await listenMetrics({ registry: new Registry(), host: '127.0.0.1', port: 0 });
    expect((running.server.address() as AddressInfo).address).toBe('127.0.0.1');
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/u);
  });

  it('with a token, answers /metrics only to `Authorization: Bearer <token>`; /healthz stays open', async () => {
    const registry = new Registry();
    running = await listenMetrics({ registry, host: '127.0.0.1', port: 0, token: 'scrape-secret-123' });
    expect((await fetch(`${running.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${running.url}/metrics`, { headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${running.url}/metrics`, {
      headers: { Authorization: 'Bearer scrape-secret-123' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe(registry.contentType);
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${running.url}/other`)).status).toBe(404);
  });

  it('without a token, serves /metrics as before', async () => {
    running = await listenMetrics({ registry: new Registry(), host: '127.0.0.1', port: 0 });
    expect((await fetch(`${running.url}/metrics`)).status).toBe(200);
  });
});
