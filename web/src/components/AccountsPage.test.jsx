// SPDX-License-Identifier: Apache-2.0
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import AccountsPage from './AccountsPage.jsx';
import { apiError, json, mockFetch } from '../test/fetchMock.js';

const acct = (name, extra = {}) => ({
  name,
  role: 'tenant',
  max_stores: null,
  creates_per_hour: null,
  disabled: false,
  // Accounts carry Unix seconds (2026-11-27T19:00:00Z).
  created_at: 1795806000,
  disabled_at: null,
  stores: 0,
  tokens: 0,
  ...extra,
});

function setup(extra = {}) {
  const items = [acct('root', { role: 'admin', tokens: 1 }), acct('alice', { max_stores: 5, stores: 2, tokens: 1 })];
  return {
    items,
    ...mockFetch({
      'GET /api/v1/accounts': () => json(200, { items })(),
      'GET /api/v1/accounts/alice/tokens': json(200, { items: [] }),
      'GET /api/v1/accounts/carol/tokens': json(200, { items: [] }),
      ...extra,
    }),
  };
}

describe('Accounts page', () => {
  it('lists accounts with role, state, stores, tokens and limits', async () => {
    const { items } = setup();
    items.push(acct('mallory', { disabled: true, disabled_at: '2026-11-27T21:00:00Z' }));
    render(<AccountsPage />);
    const alice = await screen.findByTestId('account-row-alice');
    const cells = within(alice)
      .getAllByRole('cell')
      .map((c) => c.textContent);
    expect(cells.slice(0, 5)).toEqual(['tenant', 'Active', '2', '1', 'stores 5 · creates/h default']);
    expect(screen.getByTestId('account-row-mallory')).toHaveTextContent('Disabled');
    expect(screen.getByTestId('account-row-root')).toHaveTextContent('admin');
    expect(within(alice).getByText(/2026/)).toHaveAttribute('datetime', '2026-11-27T19:00:00.000Z');
  });

  it('creates an account, then shows its panel to issue its first token once', async () => {
    const { items, calls } = setup({
      'POST /api/v1/accounts': (call) => {
        const a = acct(call.body.name, { max_stores: call.body.max_stores ?? null });
        items.push(a);
        return json(201, a)();
      },
      'POST /api/v1/accounts/carol/tokens': json(201, {
        token: 'sa_carolsecret0123456789',
        name: 'laptop',
        account: 'carol',
        expires_at: null,
      }),
    });
    render(<AccountsPage />);
    await screen.findByTestId('account-row-alice');
    await userEvent.type(screen.getByLabelText('Account name'), 'carol');
    await userEvent.type(screen.getAllByLabelText('Max stores')[0], '2');
    await userEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(calls.find((c) => c.method === 'POST').body).toEqual({ name: 'carol', role: 'tenant', max_stores: 2 });
    const panel = await screen.findByTestId('account-panel');
    await waitFor(() => expect(within(panel).getByRole('heading', { name: 'Account carol' })).toHaveFocus());

    await userEvent.type(within(panel).getByLabelText('Token name'), 'laptop');
    await userEvent.click(within(panel).getByRole('button', { name: 'Create token' }));
    expect(await within(panel).findByTestId('secret-once')).toHaveTextContent('you will not see it again');
    expect(within(panel).getByTestId('secret-value')).toHaveTextContent('sa_carolsecret0123456789');
    expect(calls.find((c) => c.path === '/api/v1/accounts/carol/tokens' && c.method === 'POST').body).toEqual({
      name: 'laptop',
    });

    // Closing the panel drops the secret.
    await userEvent.click(within(panel).getByRole('button', { name: 'Close' }));
    expect(document.body.textContent).not.toContain('sa_carolsecret0123456789');
  });

  it('shows the refusal of a taken name', async () => {
    setup({ 'POST /api/v1/accounts': apiError(409, 'account_name_taken', "Account 'alice' already exists.") });
    render(<AccountsPage />);
    await screen.findByTestId('account-row-alice');
    await userEvent.type(screen.getByLabelText('Account name'), 'alice');
    await userEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByTestId('account-create-error')).toHaveTextContent("Account 'alice' already exists.");
  });

  it('disables after confirmation, enables, and sets limits (empty is the default)', async () => {
    const { items, calls } = setup({
      'PATCH /api/v1/accounts/alice': (call) => {
        Object.assign(items[1], call.body);
        return json(200, items[1])();
      },
    });
    render(<AccountsPage />);
    await screen.findByTestId('account-row-alice');
    await userEvent.click(screen.getByRole('button', { name: 'Manage alice' }));
    const panel = screen.getByTestId('account-panel');

    const max = within(panel).getByLabelText('Max stores');
    expect(max).toHaveValue('5');
    await userEvent.clear(max);
    await userEvent.type(within(panel).getByLabelText('Creates per hour'), '4');
    await userEvent.click(within(panel).getByRole('button', { name: 'Save limits' }));
    await waitFor(() =>
      expect(screen.getByTestId('account-row-alice')).toHaveTextContent('stores default · creates/h 4'),
    );
    expect(calls.find((c) => c.method === 'PATCH').body).toEqual({ max_stores: null, creates_per_hour: 4 });

    await userEvent.click(within(panel).getByRole('button', { name: 'Disable account…' }));
    expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(1);
    expect(within(panel).getByTestId('disable-confirm')).toHaveTextContent(
      'stops its tokens, sessions and live streams',
    );
    await userEvent.click(within(panel).getByRole('button', { name: 'Disable alice' }));
    await waitFor(() => expect(screen.getByTestId('account-row-alice')).toHaveAttribute('data-disabled', 'true'));
    expect(calls.filter((c) => c.method === 'PATCH')[1].body).toEqual({ disabled: true });

    await userEvent.click(await within(panel).findByRole('button', { name: 'Enable account' }));
    await waitFor(() => expect(screen.getByTestId('account-row-alice')).toHaveAttribute('data-disabled', 'false'));
    expect(calls.filter((c) => c.method === 'PATCH')[2].body).toEqual({ disabled: false });
  });
});
