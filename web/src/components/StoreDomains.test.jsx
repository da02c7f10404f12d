// SPDX-License-Identifier: Apache-2.0
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import StoreDetail from './StoreDetail.jsx';
import { apiError, json, mockFetch, store } from '../test/fetchMock.js';

const ID = '3f9c2a7b1d4e8f60';
const DOMAINS = `/api/v1/stores/${ID}/domains`;
const PRIMARY = `/api/v1/stores/${ID}/primary-domain`;
const TWO = {
  items: [
    { domain: 'shop.example.com', primary: true, created_at: '2026-11-27T20:00:00Z' },
    { domain: 'www.example.org', primary: false, created_at: '2026-11-27T20:01:00Z' },
  ],
  primary: 'shop.example.com',
};

function routes(s, domains, extra = {}) {
  return {
    [`GET /api/v1/stores/${ID}`]: json(200, s),
    [`GET /api/v1/stores/${ID}/events`]: json(200, { items: [] }),
    [`GET /api/v1/stores/${ID}/releases`]: json(200, { items: [] }),
    'GET /api/v1/charts': json(200, { items: [{ version: '0.1.0' }] }),
    [`GET /api/v1/stores/${ID}/settings`]: json(200, {}),
    [`GET ${DOMAINS}`]: json(200, domains),
    ...extra,
  };
}

async function card() {
  const c = await screen.findByTestId('store-domains');
  await waitFor(() => expect(within(c).getByTestId('domain-input')).toBeEnabled());
  return c;
}

describe('Store domains', () => {
  it('lists the domains and which one the URLs use', async () => {
    mockFetch(routes(store(), TWO));
    render(<StoreDetail id={ID} />);
    const c = await card();
    const rows = await within(c).findAllByTestId('domain-row');
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringContaining('shop.example.com'),
      expect.stringContaining('www.example.org'),
    ]);
    expect(within(rows[0]).getByTestId('domain-primary-badge')).toHaveTextContent('primary');
    expect(within(rows[0]).queryByTestId('domain-make-primary')).toBeNull();
    expect(within(c).getByTestId('domains-primary')).toHaveTextContent("The shop's URLs use shop.example.com.");
  });

  it('adds a domain and shows it once the daemon kept it', async () => {
    let listed = { items: [], primary: null };
    const { calls } = mockFetch(
      routes(store(), null, {
        [`GET ${DOMAINS}`]: () => json(200, listed)(),
        [`POST ${DOMAINS}`]: (call) => {
          listed = { items: [{ domain: call.body.domain, primary: false, created_at: 'x' }], primary: null };
          return json(202, store({ status: 'UPGRADING' }))();
        },
      }),
    );
    render(<StoreDetail id={ID} />);
    const c = await card();
    expect(within(c).getByTestId('domains-primary')).toHaveTextContent('own host');
    await userEvent.type(within(c).getByLabelText('Add a domain'), ' shop.example.com ');
    await userEvent.click(within(c).getByTestId('domain-add'));
    await waitFor(() => expect(calls.filter((x) => x.method === 'POST')).toHaveLength(1));
    expect(calls.find((x) => x.method === 'POST').body).toEqual({ domain: 'shop.example.com' });
    expect(await within(c).findByTestId('domain-row')).toHaveTextContent('shop.example.com');
    expect(within(c).getByLabelText('Add a domain')).toHaveValue('');
  });

  it("shows the daemon's reason when it refuses a domain, and keeps what was typed", async () => {
    mockFetch(
      routes(
        store(),
        { items: [], primary: null },
        {
          [`POST ${DOMAINS}`]: apiError(409, 'domain_taken', 'Another store serves shop.example.com.'),
        },
      ),
    );
    render(<StoreDetail id={ID} />);
    const c = await card();
    await userEvent.type(within(c).getByLabelText('Add a domain'), 'shop.example.com');
    await userEvent.click(within(c).getByTestId('domain-add'));
    expect(await within(c).findByTestId('domains-error')).toHaveTextContent('Another store serves shop.example.com.');
    expect(within(c).getByLabelText('Add a domain')).toHaveValue('shop.example.com');
  });

  it('makes another domain primary', async () => {
    const { calls } = mockFetch(
      routes(store(), TWO, {
        [`POST ${PRIMARY}`]: json(202, store({ status: 'UPGRADING' })),
      }),
    );
    render(<StoreDetail id={ID} />);
    const c = await card();
    await userEvent.click(await within(c).findByRole('button', { name: 'Make www.example.org the primary domain' }));
    await waitFor(() => expect(calls.filter((x) => x.path === PRIMARY)).toHaveLength(1));
    expect(calls.find((x) => x.path === PRIMARY).body).toEqual({ domain: 'www.example.org' });
  });

  it('goes back to the own host and removes a domain', async () => {
    const { calls } = mockFetch(
      routes(store(), TWO, {
        [`POST ${PRIMARY}`]: json(202, store()),
        [`DELETE ${DOMAINS}/www.example.org`]: json(202, store()),
      }),
    );
    render(<StoreDetail id={ID} />);
    const c = await card();
    await userEvent.click(await within(c).findByTestId('domain-own-host'));
    await waitFor(() => expect(calls.filter((x) => x.path === PRIMARY)).toHaveLength(1));
    expect(calls.find((x) => x.path === PRIMARY).body).toEqual({ domain: null });
    await userEvent.click(within(c).getByRole('button', { name: 'Remove www.example.org' }));
    await waitFor(() => expect(calls.filter((x) => x.method === 'DELETE')).toHaveLength(1));
    expect(calls.find((x) => x.method === 'DELETE').path).toBe(`${DOMAINS}/www.example.org`);
  });

  it('cannot be changed while an operation runs', async () => {
    mockFetch(routes(store({ status: 'UPGRADING', step: 'helm upgrade' }), TWO));
    render(<StoreDetail id={ID} />);
    const c = await card();
    await userEvent.type(within(c).getByLabelText('Add a domain'), 'x.example.com');
    expect(within(c).getByTestId('domain-add')).toBeDisabled();
    for (const b of within(c).getAllByTestId('domain-remove')) expect(b).toBeDisabled();
    expect(within(c).getByTestId('domains-note')).toHaveTextContent('when the store is ready');
  });
});
