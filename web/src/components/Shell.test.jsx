// SPDX-License-Identifier: Apache-2.0
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { describe, expect, it } from 'vitest';
import App from '../App.jsx';
import { rememberSession } from '../lib/session.js';
import { apiError, json, mockFetch, store } from '../test/fetchMock.js';

async function violations() {
  const result = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

const platform = json(200, {
  account: {
    name: 'alice',
    role: 'tenant',
    limits: { max_stores: { limit: 3, used: 1 }, creates_per_hour: { limit: 5, used: 1 } },
  },
});

function routes(role, name = role === 'admin' ? 'root' : 'alice') {
  return {
    'GET /api/v1/session': json(200, { name, role, token: 'laptop', csrf_token: 'c1' }),
    'GET /api/v1/stores': json(200, { items: [store({ owner: name })], total: 1 }),
    'GET /api/v1/platform': platform,
    'GET /api/v1/tokens': json(200, {
      items: [
        {
          account: name,
          name: 'laptop',
          created_at: '2026-11-27T20:00:00Z',
          expires_at: null,
          last_used_at: null,
          revoked_at: null,
          expired: false,
        },
      ],
    }),
    'GET /api/v1/accounts': json(200, {
      items: [
        {
          name: 'root',
          role: 'admin',
          max_stores: null,
          creates_per_hour: null,
          disabled: false,
          created_at: '2026-11-27T19:00:00Z',
          disabled_at: null,
          stores: 0,
          tokens: 1,
        },
        {
          name: 'alice',
          role: 'tenant',
          max_stores: 3,
          creates_per_hour: null,
          disabled: false,
          created_at: '2026-11-27T19:30:00Z',
          disabled_at: null,
          stores: 1,
          tokens: 1,
        },
      ],
    }),
    'GET /api/v1/audit': json(200, {
      items: [
        {
          id: 7,
          time: '2026-11-27T20:00:00Z',
          actor: 'alice',
          token: 'laptop',
          action: 'store.create',
          target_kind: 'store',
          target: 'shop1',
          store_id: 'x',
          result: 'ok',
          error: null,
          source: 'rest',
          request_id: 'r1',
        },
      ],
      next: null,
    }),
  };
}

describe('Shell', () => {
  it('shows a tenant its name and role, and only the Stores, Tokens and Webhooks pages', async () => {
    mockFetch(routes('tenant'));
    render(<App />);
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    expect(
      within(nav)
        .getAllByRole('link')
        .map((a) => a.textContent),
    ).toEqual(['Stores', 'Tokens', 'Webhooks']);
    expect(screen.getByTestId('user-name')).toHaveTextContent('alice');
    expect(screen.getByTestId('user-role')).toHaveTextContent('tenant');
    expect(within(nav).getByRole('link', { name: 'Stores' })).toHaveAttribute('aria-current', 'page');
    // No owner filter for a tenant: it always gets its own stores.
    await screen.findByTestId('store-row-shop1');
    expect(screen.queryByLabelText('Owner')).not.toBeInTheDocument();
  });

  it("a tenant typing an admin page's address gets the not-found page", async () => {
    window.history.replaceState(null, '', '/accounts');
    const { calls } = mockFetch(routes('tenant'));
    render(<App />);
    expect(await screen.findByRole('heading', { level: 1, name: 'Page not found' })).toBeInTheDocument();
    expect(calls.some((c) => c.path === '/api/v1/accounts')).toBe(false);
  });

  it('gives an admin Accounts and Audit; each page takes focus on its heading and has no axe violations', async () => {
    mockFetch(routes('admin'));
    render(<App />);
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    expect(
      within(nav)
        .getAllByRole('link')
        .map((a) => a.textContent),
    ).toEqual(['Stores', 'Tokens', 'Webhooks', 'Accounts', 'Audit', 'Platform']);
    expect(screen.getByTestId('user-role')).toHaveTextContent('admin');
    await screen.findByTestId('store-row-shop1');

    for (const [link, heading, ready] of [
      ['Tokens', 'Tokens', 'token-row-laptop'],
      ['Accounts', 'Accounts', 'account-row-alice'],
      ['Audit', 'Audit log', 'audit-table'],
    ]) {
      await userEvent.click(within(nav).getByRole('link', { name: link }));
      const h = await screen.findByRole('heading', { level: 1, name: heading });
      await waitFor(() => expect(document.activeElement).toBe(h));
      expect(within(nav).getByRole('link', { name: link })).toHaveAttribute('aria-current', 'page');
      await screen.findByTestId(ready);
      expect(document.title).toBe(`${heading} · storeagent`);
      expect(await violations()).toEqual([]);
    }
  });

  it('shows an admin page to an admin but the API refusal if the role changed meanwhile', async () => {
    window.history.replaceState(null, '', '/audit');
    mockFetch({
      ...routes('admin'),
      'GET /api/v1/audit': apiError(403, 'forbidden', 'Only admins can read the whole audit log.'),
    });
    render(<App />);
    expect(await screen.findByTestId('audit-error')).toHaveTextContent('Only admins can read the whole audit log.');
  });

  it('moves focus to the page heading after signing in, not to the body', async () => {
    window.history.replaceState(null, '', '/');
    mockFetch({
      ...routes('tenant'),
      'GET /api/v1/session': apiError(401, 'unauthorized', 'Not signed in.'),
      'POST /api/v1/session': json(201, { name: 'alice', role: 'tenant', token: 'laptop', csrf_token: 'c1' }),
    });
    render(<App />);
    await userEvent.type(await screen.findByLabelText('API token'), 'sa_secret');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    const heading = await screen.findByRole('heading', { level: 1, name: 'Stores' });
    await waitFor(() => expect(document.activeElement).toBe(heading));
  });

  it('shows the sign-in form on a cold load without asking the daemon (no 401 in the console)', async () => {
    rememberSession(false);
    const { calls } = mockFetch(routes('tenant'));
    render(<App />);
    expect(await screen.findByLabelText('API token')).toBeInTheDocument();
    expect(calls.filter((c) => c.path === '/api/v1/session')).toHaveLength(0);
  });

  it('forgets the session when the daemon says it ended, and asks no more on the next load', async () => {
    const { calls } = mockFetch({ 'GET /api/v1/session': apiError(401, 'unauthorized', 'Not signed in.') });
    const { unmount } = render(<App />);
    expect(await screen.findByLabelText('API token')).toBeInTheDocument();
    unmount();
    render(<App />);
    expect(await screen.findByLabelText('API token')).toBeInTheDocument();
    expect(calls.filter((c) => c.path === '/api/v1/session')).toHaveLength(1);
  });
});
