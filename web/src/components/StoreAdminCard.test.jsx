// SPDX-License-Identifier: Apache-2.0
import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { emit } from '../lib/bus.js';
import { SessionContext } from '../lib/session.js';
import StoreDetail from './StoreDetail.jsx';
import { apiError, json, mockFetch, store } from '../test/fetchMock.js';

const ID = '3f9c2a7b1d4e8f60';
const CREDS = {
  url: 'http://shop1.localtest.me',
  admin_url: 'http://shop1.localtest.me/wp-admin/',
  username: 'shopadmin',
  password: 'Xq7-pL2m-Vr9s-Kd4w',
};

function routes(s, extra = {}) {
  return {
    [`GET /api/v1/stores/${ID}`]: json(200, s),
    [`GET /api/v1/stores/${ID}/events`]: json(200, { items: [] }),
    [`GET /api/v1/stores/${ID}/releases`]: json(200, { items: [] }),
    'GET /api/v1/charts': json(200, { items: [] }),
    [`GET /api/v1/stores/${ID}/credentials`]: json(200, CREDS, { 'Cache-Control': 'no-store' }),
    ...extra,
  };
}

const credentialReads = (calls) => calls.filter((c) => c.path.endsWith('/credentials'));

describe('Store admin card', () => {
  it('shows the URLs at once and fetches the password only when Reveal is pressed', async () => {
    const { calls } = mockFetch(routes(store()));
    render(<StoreDetail id={ID} />);
    const card = await screen.findByTestId('store-admin');
    expect(within(card).getByTestId('admin-url')).toHaveTextContent('http://shop1.localtest.me/wp-admin/');
    expect(within(card).getByTestId('admin-shop-url')).toHaveTextContent('http://shop1.localtest.me');
    expect(card).not.toHaveTextContent(CREDS.password);
    expect(credentialReads(calls)).toHaveLength(0);

    await userEvent.click(within(card).getByRole('button', { name: /^Reveal/ }));
    expect(await within(card).findByTestId('admin-password-value')).toHaveTextContent(CREDS.password);
    expect(within(card).getByTestId('admin-user')).toHaveTextContent('shopadmin');
    expect(within(card).getByRole('button', { name: 'Copy password' })).toBeInTheDocument();
    expect(within(card).getByRole('button', { name: 'Copy user name' })).toBeInTheDocument();
    expect(credentialReads(calls)).toHaveLength(1);

    await userEvent.click(within(card).getByRole('button', { name: 'Hide' }));
    expect(card).not.toHaveTextContent(CREDS.password);
    expect(JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })).not.toContain(CREDS.password);
  });

  it('says clearly when the store is not ready or the cluster cannot be reached', async () => {
    const r = routes(store({ status: 'PROVISIONING', step: 'helm install' }), {
      [`GET /api/v1/stores/${ID}/credentials`]: apiError(409, 'store_not_ready', "Store 'shop1' is not ready yet."),
    });
    mockFetch(r);
    render(<StoreDetail id={ID} />);
    const card = await screen.findByTestId('store-admin');
    await userEvent.click(within(card).getByRole('button', { name: /^Reveal/ }));
    expect(await within(card).findByTestId('admin-error')).toHaveTextContent("Store 'shop1' is not ready yet.");

    r[`GET /api/v1/stores/${ID}/credentials`] = apiError(503, 'cluster_unreachable', 'The cluster cannot be reached.');
    await userEvent.click(within(card).getByRole('button', { name: /^Reveal/ }));
    await waitFor(() =>
      expect(within(card).getByTestId('admin-error')).toHaveTextContent('The cluster cannot be reached.'),
    );
    expect(card).not.toHaveTextContent('shopadmin');
  });

  it('rotates the password after confirmation, shows the progress and drops the old password', async () => {
    const { calls } = mockFetch(
      routes(store(), {
        [`POST /api/v1/stores/${ID}/credentials/rotate`]: json(
          202,
          store({ step: 'rotating the admin password', updated_at: '2026-11-27T21:00:00Z' }),
        ),
      }),
    );
    render(<StoreDetail id={ID} />);
    const card = await screen.findByTestId('store-admin');
    await userEvent.click(within(card).getByRole('button', { name: /^Reveal/ }));
    await within(card).findByTestId('admin-password-value');

    await userEvent.click(within(card).getByRole('button', { name: 'Rotate password…' }));
    const confirm = within(card).getByRole('button', { name: 'Rotate password' });
    await waitFor(() => expect(confirm).toHaveFocus());
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
    await userEvent.click(confirm);

    const progress = await within(card).findByTestId('rotate-progress');
    expect(within(progress).getByRole('progressbar')).toHaveAttribute('aria-valuetext', 'rotating the admin password');
    expect(card).not.toHaveTextContent(CREDS.password);
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual([
      `/api/v1/stores/${ID}/credentials/rotate`,
    ]);

    // The task ends: the progress goes away.
    act(() => emit('store', store({ step: null, updated_at: '2026-11-27T21:00:30Z' })));
    await waitFor(() => expect(within(card).queryByTestId('rotate-progress')).not.toBeInTheDocument());
  });
});

describe('Transfer (admins)', () => {
  const accounts = json(200, {
    items: [
      { name: 'admin', role: 'admin', disabled: false },
      { name: 'alice', role: 'tenant', disabled: false },
      { name: 'bob', role: 'tenant', disabled: false },
      { name: 'mallory', role: 'tenant', disabled: true },
    ],
  });

  it('is not offered to a tenant', async () => {
    const { calls } = mockFetch(routes(store({ owner: 'alice' })));
    render(
      <SessionContext.Provider value={{ name: 'alice', role: 'tenant' }}>
        <StoreDetail id={ID} />
      </SessionContext.Provider>,
    );
    await screen.findByTestId('store-admin');
    expect(screen.queryByTestId('transfer')).not.toBeInTheDocument();
    expect(calls.some((c) => c.path === '/api/v1/accounts')).toBe(false);
  });

  it('moves the store to the chosen active account after confirmation', async () => {
    const { calls } = mockFetch(
      routes(store({ owner: 'alice' }), {
        'GET /api/v1/accounts': accounts,
        [`POST /api/v1/stores/${ID}/transfer`]: json(200, store({ owner: 'bob', updated_at: '2026-11-27T21:00:00Z' })),
      }),
    );
    render(
      <SessionContext.Provider value={{ name: 'admin', role: 'admin' }}>
        <StoreDetail id={ID} />
      </SessionContext.Provider>,
    );
    const card = await screen.findByTestId('transfer');
    const select = within(card).getByLabelText('Transfer to account');
    await waitFor(() =>
      expect(
        within(select)
          .getAllByRole('option')
          .map((o) => o.value),
      ).toEqual(['admin', 'bob']),
    );
    await userEvent.selectOptions(select, 'bob');
    await userEvent.click(within(card).getByRole('button', { name: 'Transfer…' }));
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
    await userEvent.click(within(card).getByRole('button', { name: 'Transfer to bob' }));
    await waitFor(() => expect(within(card).getByTestId('store-owner')).toHaveTextContent('Owned by bob.'));
    expect(calls.find((c) => c.method === 'POST').body).toEqual({ account: 'bob' });
  });
});
