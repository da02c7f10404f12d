// SPDX-License-Identifier: Apache-2.0
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import App from '../App.jsx';
import { apiError, json, mockFetch, store } from '../test/fetchMock.js';

const SECRET = 'sa_9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const tok = (name, extra = {}) => ({
  account: 'alice',
  name,
  created_at: '2026-11-27T20:00:00Z',
  expires_at: null,
  last_used_at: null,
  revoked_at: null,
  expired: false,
  ...extra,
});

function routes(items) {
  return {
    'GET /api/v1/session': json(200, { name: 'alice', role: 'tenant', token: 'laptop', csrf_token: 'c1' }),
    'GET /api/v1/stores': json(200, { items: [store({ owner: 'alice' })], total: 1 }),
    'GET /api/v1/platform': json(200, { account: { name: 'alice', role: 'tenant', limits: {} } }),
    'GET /api/v1/tokens': () => json(200, { items })(),
  };
}

describe('Tokens page', () => {
  it('shows a new token once, with a copy button; leaving the page drops it for good', async () => {
    const items = [tok('laptop'), tok('old', { revoked_at: '2026-11-27T21:00:00Z' })];
    const r = routes(items);
    r['POST /api/v1/tokens'] = (call) => {
      items.push(tok(call.body.name, { expires_at: '2026-12-27T20:00:00Z' }));
      return json(201, { token: SECRET, name: call.body.name, account: 'alice', expires_at: '2026-12-27T20:00:00Z' })();
    };
    const { calls } = mockFetch(r);
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    window.history.replaceState(null, '', '/tokens');
    render(<App />);

    expect(await screen.findByTestId('token-row-laptop')).toHaveTextContent('(this session)');
    expect(screen.getByTestId('token-row-old')).toHaveAttribute('data-state', 'revoked');
    expect(within(screen.getByTestId('token-row-old')).queryByRole('button')).not.toBeInTheDocument();

    await userEvent.type(screen.getByLabelText('Token name'), 'ci');
    await userEvent.selectOptions(screen.getByLabelText('Expires after'), '30 days');
    await userEvent.click(screen.getByRole('button', { name: 'Create token' }));

    const shown = await screen.findByTestId('secret-once');
    expect(shown).toHaveTextContent('you will not see it again');
    expect(screen.getByTestId('secret-value')).toHaveTextContent(SECRET);
    expect(calls.find((c) => c.method === 'POST').body).toEqual({ name: 'ci', expires_in: 30 * 24 * 3600 });
    await screen.findByTestId('token-row-ci');
    await userEvent.click(within(shown).getByRole('button', { name: 'Copy token' }));
    expect(writeText).toHaveBeenCalledWith(SECRET);
    expect(within(shown).getByRole('button', { name: 'Copy token' })).toHaveTextContent('Copied');

    // Away and back: the secret is nowhere, not in the page and not in storage.
    await userEvent.click(screen.getByRole('link', { name: 'Stores' }));
    await screen.findByTestId('store-row-shop1');
    await userEvent.click(screen.getByRole('link', { name: 'Tokens' }));
    await screen.findByTestId('token-row-ci');
    expect(screen.queryByTestId('secret-once')).not.toBeInTheDocument();
    expect(document.body.textContent).not.toContain(SECRET);
    const stored = JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage });
    expect(stored).not.toContain(SECRET);
  });

  it('revokes only after confirmation, and shows why a revoke failed', async () => {
    const items = [tok('laptop'), tok('ci')];
    const r = routes(items);
    r['DELETE /api/v1/tokens/ci'] = apiError(404, 'token_not_found', "No token 'ci' in account 'alice'.");
    const { calls } = mockFetch(r);
    window.history.replaceState(null, '', '/tokens');
    render(<App />);
    await userEvent.click(await screen.findByTestId('token-revoke-ci'));
    const confirm = screen.getByRole('button', { name: 'Revoke ci' });
    await waitFor(() => expect(confirm).toHaveFocus());
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(0);
    await userEvent.click(confirm);
    expect(await screen.findByTestId('token-error')).toHaveTextContent("No token 'ci' in account 'alice'.");
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/api/v1/tokens/ci']);
  });

  it('warns that revoking the token of this session signs you out; Escape cancels', async () => {
    const { calls } = mockFetch(routes([tok('laptop')]));
    window.history.replaceState(null, '', '/tokens');
    render(<App />);
    await userEvent.click(await screen.findByTestId('token-revoke-laptop'));
    expect(screen.getByTestId('revoke-confirm')).toHaveTextContent('This signs you out.');
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByTestId('revoke-confirm')).not.toBeInTheDocument();
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(0);
  });
});
