// SPDX-License-Identifier: Apache-2.0
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { describe, expect, it } from 'vitest';
import App from '../App.jsx';
import { apiError, json, mockFetch, store } from '../test/fetchMock.js';

const SECRET = 'whsec_0123456789abcdefghijABCDEFGHIJxy';
const hook = (id, extra = {}) => ({
  id,
  account: 'alice',
  url: `https://hooks.example.com/${id}`,
  events: ['store.ready', 'store.failed', 'store.deleted', 'backup.succeeded', 'backup.failed'],
  all_stores: false,
  enabled: true,
  created_at: '2026-12-01T20:00:00Z',
  ...extra,
});
const delivery = (id, extra = {}) => ({
  id,
  event: 'webhook.test',
  store_id: null,
  state: 'queued',
  attempts: 0,
  response_code: null,
  last_error: null,
  created_at: '2026-12-01T20:00:00Z',
  updated_at: '2026-12-01T20:00:00Z',
  next_attempt_at: '2026-12-01T20:00:00Z',
  ...extra,
});

function routes(items, log) {
  return {
    'GET /api/v1/session': json(200, { name: 'alice', role: 'tenant', token: 'laptop', csrf_token: 'c1' }),
    'GET /api/v1/stores': json(200, { items: [store({ owner: 'alice' })], total: 1 }),
    'GET /api/v1/platform': json(200, { account: { name: 'alice', role: 'tenant', limits: {} } }),
    'GET /api/v1/webhooks': () => json(200, { items })(),
    'GET /api/v1/webhooks/1/deliveries': () => json(200, { items: log })(),
  };
}

describe('Webhooks page', () => {
  it('creates a webhook with the events chosen and shows its secret once', async () => {
    const items = [];
    const r = routes(items, []);
    r['POST /api/v1/webhooks'] = (call) => {
      const h = hook(1, { url: call.body.url, events: call.body.events });
      items.push(h);
      return json(201, { ...h, secret: SECRET })();
    };
    const { calls } = mockFetch(r);
    window.history.replaceState(null, '', '/webhooks');
    render(<App />);

    expect(await screen.findByText('No webhooks yet.')).toBeInTheDocument();
    expect(screen.queryByLabelText(/Every store/)).not.toBeInTheDocument();
    await userEvent.type(screen.getByLabelText('URL'), 'https://hooks.example.com/in');
    await userEvent.click(screen.getByLabelText('backup.succeeded'));
    await userEvent.click(screen.getByLabelText('backup.failed'));
    await userEvent.click(screen.getByRole('button', { name: 'Create webhook' }));

    expect(await screen.findByTestId('webhook-secret')).toHaveTextContent(SECRET);
    expect(calls.find((c) => c.method === 'POST').body).toEqual({
      url: 'https://hooks.example.com/in',
      events: ['store.ready', 'store.failed', 'store.deleted'],
    });
    const row = await screen.findByTestId('webhook-1');
    expect(row).toHaveTextContent('https://hooks.example.com/in');
    expect(row).toHaveTextContent('store.ready, store.failed, store.deleted');
    await userEvent.click(screen.getByRole('button', { name: 'I have copied it' }));
    expect(screen.queryByText(SECRET)).not.toBeInTheDocument();
  });

  it("lets an admin, and only an admin, ask for every store's events", async () => {
    const items = [];
    const r = routes(items, []);
    r['GET /api/v1/session'] = json(200, { name: 'root', role: 'admin', token: 'ops', csrf_token: 'c1' });
    r['POST /api/v1/webhooks'] = (call) => {
      const h = hook(1, { url: call.body.url, all_stores: call.body.all_stores === true });
      items.push(h);
      return json(201, { ...h, secret: SECRET })();
    };
    const { calls } = mockFetch(r);
    window.history.replaceState(null, '', '/webhooks');
    render(<App />);
    await userEvent.type(await screen.findByLabelText('URL'), 'https://hooks.example.com/all');
    await userEvent.click(screen.getByLabelText(/Every store/));
    await userEvent.click(screen.getByRole('button', { name: 'Create webhook' }));
    expect(await screen.findByTestId('webhook-1')).toHaveTextContent('every store');
    expect(calls.find((c) => c.method === 'POST').body.all_stores).toBe(true);
  });

  it('pauses and resumes a webhook', async () => {
    const items = [hook(1)];
    const r = routes(items, []);
    r['PATCH /api/v1/webhooks/1'] = (call) => {
      items[0] = { ...items[0], enabled: call.body.enabled };
      return json(200, items[0])();
    };
    const { calls } = mockFetch(r);
    window.history.replaceState(null, '', '/webhooks');
    render(<App />);
    await userEvent.click(await screen.findByRole('button', { name: 'Pause' }));
    expect(await screen.findByTestId('webhook-1')).toHaveTextContent('paused');
    expect(calls.find((c) => c.method === 'PATCH').body).toEqual({ enabled: false });
    await userEvent.click(await screen.findByRole('button', { name: 'Resume' }));
    await screen.findByRole('button', { name: 'Pause' });
    expect(screen.getByTestId('webhook-1')).not.toHaveTextContent('paused');
  });

  it('says why a URL is refused', async () => {
    const r = routes([], []);
    r['POST /api/v1/webhooks'] = apiError(400, 'invalid_url', 'The URL must not hold a user name or password.');
    mockFetch(r);
    window.history.replaceState(null, '', '/webhooks');
    render(<App />);
    await userEvent.type(await screen.findByLabelText('URL'), 'https://u:p@example.com/');
    await userEvent.click(screen.getByRole('button', { name: 'Create webhook' }));
    expect(await screen.findByTestId('webhook-error')).toHaveTextContent('user name or password');
  });

  it('sends a test event and shows the delivery log', async () => {
    const log = [];
    const r = routes([hook(1)], log);
    r['POST /api/v1/webhooks/1/test'] = () => {
      log.unshift(delivery(7, { state: 'delivered', attempts: 2, response_code: 200 }));
      log.push(delivery(6, { state: 'failed', attempts: 8, last_error: 'The receiver answered HTTP 500.' }));
      return json(202, delivery(7))();
    };
    const { calls } = mockFetch(r);
    window.history.replaceState(null, '', '/webhooks');
    render(<App />);

    await userEvent.click(await screen.findByRole('button', { name: 'Send test event' }));
    expect(calls.some((c) => c.method === 'POST' && c.path === '/api/v1/webhooks/1/test')).toBe(true);
    const delivered = await screen.findByTestId('delivery-7');
    expect(delivered).toHaveAttribute('data-state', 'delivered');
    expect(within(delivered).getAllByRole('cell')[3]).toHaveTextContent('200');
    expect(screen.getByTestId('delivery-6')).toHaveTextContent('The receiver answered HTTP 500.');
    const result = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } });
    expect(result.violations.map((v) => v.id)).toEqual([]);
  });
});
