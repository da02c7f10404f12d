// SPDX-License-Identifier: Apache-2.0
// axe-core over the main screens (jsdom cannot judge colour contrast; the rest
// of the rules run: labels, roles, names, landmarks, list structure).
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { describe, expect, it } from 'vitest';
import App from '../App.jsx';
import { json, mockFetch, store } from '../test/fetchMock.js';

async function violations() {
  const result = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

const ID = '3f9c2a7b1d4e8f60';
const routes = {
  'GET /api/v1/session': json(200, { name: 'admin', csrf_token: 'c1' }),
  'GET /api/v1/stores': json(200, {
    items: [
      store({ id: ID }),
      store({
        id: 'b2',
        name: 'bakery',
        status: 'PROVISIONING',
        step: 'helm install',
        progress: { current: 5, total: 6 },
        url: null,
      }),
      store({ id: 'c3', name: 'broken', status: 'FAILED', status_reason: 'Insufficient memory.' }),
    ],
    total: 3,
  }),
  'GET /api/v1/platform': json(200, {
    version: '0.1.0',
    stores_by_status: { READY: 1, PROVISIONING: 1, FAILED: 1 },
    limits: { max_stores: { limit: 50, used: 3 } },
    cluster: { reachable: true, detail: 'v1.33.13' },
  }),
  [`GET /api/v1/stores/${ID}`]: json(200, store({ id: ID })),
  [`GET /api/v1/stores/${ID}/events`]: json(200, {
    items: [{ id: 1, time: '2026-11-27T20:00:00Z', actor: 'admin', action: 'store.create', detail: 'requested' }],
  }),
  [`GET /api/v1/stores/${ID}/releases`]: json(200, {
    items: [
      {
        revision: 1,
        status: 'deployed',
        chart: 'store-woocommerce-0.1.0',
        app_version: '6.8',
        updated: '2026-11-27T20:00:30Z',
        description: 'Install complete',
      },
    ],
  }),
  [`GET /api/v1/stores/${ID}/backups`]: json(200, {
    items: [
      {
        id: '0123456789abcdef',
        store_id: ID,
        status: 'failed',
        actor: 'admin',
        scheduled: false,
        created_at: '2026-11-27T21:00:00Z',
        finished_at: '2026-11-27T21:00:01Z',
        path: null,
        size_bytes: 0,
        manifest: null,
        reason: 'dumping the database: the pod is not running',
      },
    ],
  }),
  [`GET /api/v1/stores/${ID}/backup-schedule`]: json(200, {
    every_sec: 86400,
    store_every_sec: null,
    default_every_sec: 86400,
    min_every_sec: 3600,
    keep: { last: 0, daily: 7, weekly: 4 },
    last_backup_at: null,
    next_backup_at: '2026-11-28T20:00:00Z',
  }),
  [`GET /api/v1/stores/${ID}/usage`]: json(200, {
    store: ID,
    metrics: 'available',
    interval_seconds: 30,
    window_seconds: 3600,
    samples: [0, 1].map((i) => ({
      at: new Date(Date.now() - (60 - i * 30) * 1000).toISOString(),
      cpu_millicores: 120 + i * 40,
      memory_bytes: (300 + i * 20) * 2 ** 20,
      cpu_quota_millicores: 4000,
      memory_quota_bytes: 2 * 2 ** 30,
      storage_requested_bytes: 4 * 2 ** 30,
      storage_quota_bytes: null,
      pods: [{ name: 'shop1-mysql-0', cpu_millicores: 60, memory_bytes: 150 * 2 ** 20 }],
    })),
  }),
  'GET /api/v1/charts': json(200, { items: [{ version: '0.1.0' }, { version: '0.2.0' }] }),
};

describe('accessibility', () => {
  it('sign-in has no axe violations', async () => {
    mockFetch({ 'GET /api/v1/session': json(401, { error: { code: 'unauthorized', message: 'Sign in.' } }) });
    render(<App />);
    await screen.findByLabelText('API token');
    expect(await violations()).toEqual([]);
  });

  it('the stores page and a store page have no axe violations; moving between them focuses the heading', async () => {
    mockFetch(routes);
    render(<App />);
    await screen.findByTestId('store-row-bakery');
    await screen.findByTestId('limit-max_stores');
    expect(await violations()).toEqual([]);

    await userEvent.click(screen.getByTestId('store-link-shop1'));
    await screen.findByTestId('timeline');
    await screen.findByTestId('releases');
    await screen.findByTestId('backup-0123456789abcdef');
    await screen.findByTestId('backup-schedule-summary');
    await screen.findByTestId('usage-cpu');
    // Moving to a page moves focus to its heading, for screen reader users.
    const heading = screen.getByRole('heading', { level: 1, name: 'shop1' });
    await waitFor(() => expect(document.activeElement).toBe(heading));
    await userEvent.click(screen.getByRole('button', { name: 'Delete store…' }));
    await userEvent.click(screen.getByTestId('backup-delete'));
    expect(await violations()).toEqual([]);

    // And back on the list, to the list's heading.
    await userEvent.click(screen.getByRole('link', { name: 'storeagent' }));
    await screen.findByTestId('store-row-bakery');
    const home = screen.getByRole('heading', { level: 1, name: 'Stores' });
    await waitFor(() => expect(document.activeElement).toBe(home));
  });
});
