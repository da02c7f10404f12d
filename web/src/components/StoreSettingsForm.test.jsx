// SPDX-License-Identifier: Apache-2.0
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import StoreDetail from './StoreDetail.jsx';
import { apiError, json, mockFetch, store } from '../test/fetchMock.js';

const ID = '3f9c2a7b1d4e8f60';
const SETTINGS = `/api/v1/stores/${ID}/settings`;

function routes(s, extra = {}) {
  return {
    [`GET /api/v1/stores/${ID}`]: json(200, s),
    [`GET /api/v1/stores/${ID}/events`]: json(200, { items: [] }),
    [`GET /api/v1/stores/${ID}/releases`]: json(200, { items: [] }),
    'GET /api/v1/charts': json(200, { items: [{ version: '0.1.0' }] }),
    [`GET ${SETTINGS}`]: json(200, { currency: 'USD', title: 'Old Title' }),
    ...extra,
  };
}

describe('Store settings form', () => {
  it('shows the saved settings and sends only what changed, emptied fields as null', async () => {
    const { calls } = mockFetch(routes(store(), { [`PATCH ${SETTINGS}`]: json(202, store({ status: 'UPGRADING' })) }));
    render(<StoreDetail id={ID} />);
    const card = await screen.findByTestId('store-settings');
    await waitFor(() => expect(within(card).getByTestId('settings-title')).toHaveValue('Old Title'));
    expect(within(card).getByTestId('settings-currency')).toHaveValue('USD');
    expect(within(card).getByTestId('settings-save')).toBeDisabled();

    await userEvent.clear(within(card).getByLabelText('Shop title'));
    await userEvent.type(within(card).getByLabelText('Currency'), '{Backspace}{Backspace}{Backspace}EUR');
    await userEvent.type(within(card).getByLabelText('Country'), 'DE');
    await userEvent.click(within(card).getByTestId('settings-save'));

    await waitFor(() => expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(1));
    const patch = calls.find((c) => c.method === 'PATCH');
    expect(patch.path).toBe(SETTINGS);
    expect(patch.body).toEqual({ title: null, currency: 'EUR', country: 'DE' });
  });

  it("shows the daemon's reason when it refuses a value", async () => {
    mockFetch(
      routes(store(), {
        [`PATCH ${SETTINGS}`]: apiError(400, 'invalid_request', 'currency must be an ISO 4217 code such as USD.'),
      }),
    );
    render(<StoreDetail id={ID} />);
    const card = await screen.findByTestId('store-settings');
    await waitFor(() => expect(within(card).getByTestId('settings-currency')).toHaveValue('USD'));
    await userEvent.type(within(card).getByLabelText('Currency'), 'X');
    await userEvent.click(within(card).getByTestId('settings-save'));
    expect(await within(card).findByTestId('settings-error')).toHaveTextContent(
      'currency must be an ISO 4217 code such as USD.',
    );
  });

  it('cannot be saved while an operation runs', async () => {
    mockFetch(routes(store({ status: 'UPGRADING', step: 'helm upgrade' })));
    render(<StoreDetail id={ID} />);
    const card = await screen.findByTestId('store-settings');
    await waitFor(() => expect(within(card).getByTestId('settings-title')).toHaveValue('Old Title'));
    await userEvent.type(within(card).getByLabelText('Shop title'), '!');
    expect(within(card).getByTestId('settings-save')).toBeDisabled();
    expect(within(card).getByTestId('settings-note')).toHaveTextContent('when the store is ready');
  });
});

describe('Redeploy', () => {
  it('says why no upgrade is offered and redeploys the current version', async () => {
    const { calls } = mockFetch(
      routes(store(), { [`POST /api/v1/stores/${ID}/redeploy`]: json(202, store({ status: 'UPGRADING' })) }),
    );
    render(<StoreDetail id={ID} />);
    const actions = await screen.findByTestId('actions');
    expect(await within(actions).findByTestId('upgrade-why')).toHaveTextContent(
      'The chart repository offers only 0.1.0, which the store already runs.',
    );
    await userEvent.click(within(actions).getByTestId('action-redeploy'));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path.endsWith('/redeploy'))).toBe(true));
  });
});
