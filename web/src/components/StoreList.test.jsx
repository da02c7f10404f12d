// SPDX-License-Identifier: Apache-2.0
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { emit } from '../lib/bus.js';
import { SessionContext } from '../lib/session.js';
import StoreList from './StoreList.jsx';
import { apiError, json, mockFetch, store } from '../test/fetchMock.js';

const page = (items) => json(200, { items, total: items.length, limit: 50, offset: 0 });

const ready = store({ id: 'a1', name: 'acme', created_at: '2026-11-27T19:00:00Z' });
const busy = store({
  id: 'b2',
  name: 'bakery',
  status: 'PROVISIONING',
  step: 'waiting for workloads: 1 of 3 ready',
  progress: { current: 4, total: 6 },
  url: null,
  created_at: '2026-11-27T20:00:00Z',
});
const failed = store({
  id: 'c3',
  name: 'broken',
  status: 'FAILED',
  status_reason: 'Pod mysql-0 could not be scheduled: 1 Insufficient memory.',
  created_at: '2026-11-27T18:00:00Z',
});

describe('StoreList', () => {
  it('lists stores newest first with status, progress, failure reason and URL', async () => {
    mockFetch({ 'GET /api/v1/stores': page([ready, failed, busy]) });
    render(<StoreList />);
    const rows = await screen.findAllByTestId(/^store-row-/);
    expect(rows.map((r) => r.dataset.testid)).toEqual(['store-row-bakery', 'store-row-acme', 'store-row-broken']);
    expect(screen.getByTestId('store-count')).toHaveTextContent('3 stores');

    const acme = within(screen.getByTestId('store-row-acme'));
    expect(screen.getByTestId('status-acme')).toHaveTextContent('Ready');
    expect(acme.getByRole('link', { name: 'shop1.localtest.me' })).toHaveAttribute('href', 'http://shop1.localtest.me');
    expect(acme.getByRole('link', { name: 'acme' })).toHaveAttribute('href', '/stores/a1');

    const bars = within(screen.getByTestId('store-row-bakery')).getAllByRole('progressbar');
    expect(bars[0]).toHaveAttribute('aria-valuenow', '4');
    expect(bars[0]).toHaveAttribute('aria-valuemax', '6');
    expect(bars[0]).toHaveAccessibleName('bakery progress');
    expect(screen.getAllByText('waiting for workloads: 1 of 3 ready').length).toBeGreaterThan(0);
    expect(screen.getAllByText(failed.status_reason).length).toBeGreaterThan(0);
  });

  it('tells a new user what to do when there are no stores', async () => {
    mockFetch({ 'GET /api/v1/stores': page([]) });
    render(<StoreList />);
    const empty = await screen.findByTestId('empty-state');
    expect(empty).toHaveTextContent('No stores yet');
    expect(empty).toHaveTextContent('Create store');
  });

  it('filters by status through the API', async () => {
    const { calls } = mockFetch({
      'GET /api/v1/stores?status=FAILED&limit=50&offset=0': page([failed]),
      'GET /api/v1/stores': page([ready, failed, busy]),
    });
    render(<StoreList />);
    await screen.findByTestId('store-row-acme');
    await userEvent.selectOptions(screen.getByLabelText('Status'), 'FAILED');
    await waitFor(() => expect(screen.queryByTestId('store-row-acme')).not.toBeInTheDocument());
    expect(screen.getByTestId('store-row-broken')).toBeInTheDocument();
    expect(calls.at(-1).search).toBe('?status=FAILED&limit=50&offset=0');
    expect(window.location.search).toBe('?status=FAILED');
  });

  it('applies live updates: progress, READY, new stores and deletions', async () => {
    mockFetch({ 'GET /api/v1/stores': page([ready, busy]) });
    render(<StoreList />);
    await screen.findByTestId('store-row-bakery');

    act(() =>
      emit('store', {
        ...busy,
        progress: { current: 5, total: 6 },
        step: 'setup job',
        updated_at: '2026-11-27T20:02:00Z',
      }),
    );
    expect(within(screen.getByTestId('store-row-bakery')).getAllByRole('progressbar')[0]).toHaveAttribute(
      'aria-valuenow',
      '5',
    );

    act(() =>
      emit('store', {
        ...busy,
        status: 'READY',
        step: null,
        progress: null,
        url: 'http://bakery.localtest.me',
        updated_at: '2026-11-27T20:03:00Z',
      }),
    );
    expect(screen.getByTestId('status-bakery')).toHaveAttribute('data-status', 'READY');
    expect(within(screen.getByTestId('store-row-bakery')).queryByRole('progressbar')).not.toBeInTheDocument();

    // An older event arriving late does not roll the row back.
    act(() => emit('store', { ...busy, updated_at: '2026-11-27T20:02:30Z' }));
    expect(screen.getByTestId('status-bakery')).toHaveAttribute('data-status', 'READY');

    act(() =>
      emit(
        'store',
        store({
          id: 'n9',
          name: 'newshop',
          status: 'PROVISIONING',
          created_at: '2026-11-27T21:00:00Z',
          updated_at: '2026-11-27T21:00:00Z',
        }),
      ),
    );
    expect(screen.getAllByTestId(/^store-row-/)[0]).toHaveAttribute('data-testid', 'store-row-newshop');
    expect(screen.getByTestId('store-count')).toHaveTextContent('3 stores');

    act(() =>
      emit('store', {
        ...ready,
        status: 'DELETED',
        deleted_at: '2026-11-27T21:05:00Z',
        updated_at: '2026-11-27T21:05:00Z',
      }),
    );
    expect(screen.queryByTestId('store-row-acme')).not.toBeInTheDocument();
    expect(screen.getByTestId('store-count')).toHaveTextContent('2 stores');
  });

  it('refetches when asked to refresh (polling) and shows errors with a retry', async () => {
    const routes = { 'GET /api/v1/stores': page([ready]) };
    mockFetch(routes);
    render(<StoreList />);
    await screen.findByTestId('store-row-acme');
    routes['GET /api/v1/stores'] = page([ready, busy]);
    act(() => emit('refresh'));
    expect(await screen.findByTestId('store-row-bakery')).toBeInTheDocument();

    routes['GET /api/v1/stores'] = apiError(429, 'rate_limited', 'Too many requests.', { 'Retry-After': '30' });
    act(() => emit('refresh'));
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many requests.');
    expect(screen.getByRole('alert')).toHaveTextContent(/try again in (30|29|28|27) s/);
    // The rows already shown stay.
    expect(screen.getByTestId('store-row-acme')).toBeInTheDocument();
  });
});

describe('StoreList rough edges', () => {
  it('leaves no empty line under a row with nothing to say (phone layout)', async () => {
    window.history.replaceState(null, '', '/');
    mockFetch({ 'GET /api/v1/stores': page([ready, busy, failed]) });
    render(<StoreList />);
    await screen.findByTestId('store-row-acme');
    expect(screen.queryByTestId('store-detail-line-acme')).not.toBeInTheDocument();
    expect(screen.getByTestId('store-detail-line-bakery')).toBeInTheDocument();
    expect(screen.getByTestId('store-detail-line-broken')).toHaveTextContent(failed.status_reason);
  });

  it('searches the stores by name, owner or URL and sorts them', async () => {
    window.history.replaceState(null, '', '/');
    const other = store({
      id: 'd4',
      name: 'candles',
      owner: 'carol',
      url: 'http://candles.localtest.me',
      created_at: '2026-11-27T17:00:00Z',
      updated_at: '2026-11-27T22:00:00Z',
    });
    mockFetch({ 'GET /api/v1/stores': page([ready, busy, failed, other]) });
    render(<StoreList />);
    await screen.findByTestId('store-row-acme');
    const names = () => screen.getAllByTestId(/^store-row-/).map((r) => r.dataset.testid.slice(10));
    expect(names()).toEqual(['bakery', 'acme', 'broken', 'candles']);

    await userEvent.selectOptions(screen.getByLabelText('Sort'), 'name');
    expect(names()).toEqual(['acme', 'bakery', 'broken', 'candles']);
    await userEvent.selectOptions(screen.getByLabelText('Sort'), 'changed');
    expect(names()[0]).toBe('candles');
    await userEvent.selectOptions(screen.getByLabelText('Sort'), 'created-asc');
    expect(names()).toEqual(['candles', 'broken', 'acme', 'bakery']);

    await userEvent.type(screen.getByLabelText('Search'), 'carol');
    expect(names()).toEqual(['candles']);
    expect(screen.getByTestId('store-count')).toHaveTextContent('1 of 4 stores match');
    await userEvent.clear(screen.getByLabelText('Search'));
    await userEvent.type(screen.getByLabelText('Search'), 'B');
    expect(names()).toEqual(['broken', 'bakery']);
    await userEvent.type(screen.getByLabelText('Search'), 'zzz');
    expect(screen.getByTestId('empty-search')).toHaveTextContent('No store matches “Bzzz”.');
  });

  it('asks the daemon once when the status filter is arrowed through', async () => {
    window.history.replaceState(null, '', '/');
    const { calls } = mockFetch({ 'GET /api/v1/stores': page([ready, failed, busy]) });
    render(<StoreList />);
    await screen.findByTestId('store-row-acme');
    const before = calls.length;
    const filter = screen.getByLabelText('Status');
    // What the arrow keys do to a closed select: one change per key, in quick succession
    // (synchronous here, so that a slow machine cannot spread them past the delay).
    for (const value of ['PROVISIONING', 'READY', 'FAILED']) fireEvent.change(filter, { target: { value } });
    expect(filter).toHaveValue('FAILED');
    await waitFor(() => expect(window.location.search).toBe('?status=FAILED'));
    await waitFor(() => expect(calls.length).toBe(before + 1));
    expect(calls.at(-1).search).toBe('?status=FAILED&limit=50&offset=0');
  });

  it('does not step back when the create answer arrives after the first step of the same second', async () => {
    window.history.replaceState(null, '', '/');
    mockFetch({ 'GET /api/v1/stores': page([]) });
    render(<StoreList />);
    await screen.findByTestId('empty-state');
    const base = store({ id: 'n1', name: 'fresh', status: 'PROVISIONING', url: null });
    const at = { created_at: '2026-11-27T21:00:00Z', updated_at: '2026-11-27T21:00:00Z' };
    act(() => emit('store', { ...base, ...at, step: 'connecting', progress: { current: 1, total: 7 } }));
    act(() => emit('store', { ...base, ...at, step: 'queued', progress: { current: 0, total: 7 } }));
    const bar = within(screen.getByTestId('store-row-fresh')).getAllByRole('progressbar')[0];
    expect(bar).toHaveAttribute('aria-valuetext', 'connecting (step 1 of 7)');
    // A later second still wins, whatever its step.
    act(() =>
      emit('store', {
        ...base,
        ...at,
        updated_at: '2026-11-27T21:00:01Z',
        step: 'retry',
        progress: { current: 0, total: 7 },
      }),
    );
    expect(within(screen.getByTestId('store-row-fresh')).getAllByRole('progressbar')[0]).toHaveAttribute(
      'aria-valuetext',
      'retry (step 0 of 7)',
    );
  });

  it("shows a deleted store's URL as text, not as a link", async () => {
    window.history.replaceState(null, '', '/?status=DELETED');
    const gone = store({ id: 'g1', name: 'gone', status: 'DELETED', deleted_at: '2026-11-27T21:05:00Z' });
    mockFetch({ 'GET /api/v1/stores': page([gone]) });
    render(<StoreList />);
    const row = await screen.findByTestId('store-row-gone');
    expect(row).toHaveTextContent('shop1.localtest.me');
    expect(within(row).queryByRole('link', { name: 'shop1.localtest.me' })).not.toBeInTheDocument();
    window.history.replaceState(null, '', '/');
  });
});

describe('StoreList for admins', () => {
  const asAdmin = (ui) => (
    <SessionContext.Provider value={{ name: 'root', role: 'admin' }}>{ui}</SessionContext.Provider>
  );

  it('shows an owner column and filters by owner through the API', async () => {
    const { calls } = mockFetch({
      'GET /api/v1/stores': (call) => {
        const owner = new URLSearchParams(call.search).get('owner');
        const all = [
          store({ id: 'a1', name: 'acme', owner: 'alice' }),
          store({ id: 'b2', name: 'bakery', owner: 'bob' }),
        ];
        const items = owner ? all.filter((s) => s.owner === owner) : all;
        return json(200, { items, total: items.length, limit: 50, offset: 0 })();
      },
      'GET /api/v1/accounts': json(200, { items: [{ name: 'alice' }, { name: 'bob' }] }),
    });
    render(asAdmin(<StoreList />));
    expect(await screen.findByTestId('store-owner-acme')).toHaveTextContent('alice');
    expect(screen.getByTestId('store-owner-bakery')).toHaveTextContent('bob');
    const filter = screen.getByLabelText('Owner');
    await waitFor(() => expect(within(filter).getAllByRole('option')).toHaveLength(3));
    await userEvent.selectOptions(filter, 'bob');
    await waitFor(() => expect(screen.queryByTestId('store-row-acme')).not.toBeInTheDocument());
    expect(screen.getByTestId('store-row-bakery')).toBeInTheDocument();
    expect(window.location.search).toBe('?owner=bob');
    expect(new URLSearchParams(calls.filter((c) => c.path === '/api/v1/stores').at(-1).search).get('owner')).toBe(
      'bob',
    );
    expect(screen.getByTestId('store-count')).toHaveTextContent('1 store of bob');
  });

  it('has no owner column for a tenant', async () => {
    mockFetch({ 'GET /api/v1/stores': page([store({ id: 'a1', name: 'acme', owner: 'alice' })]) });
    render(<StoreList />);
    await screen.findByTestId('store-row-acme');
    expect(screen.queryByTestId('store-owner-acme')).not.toBeInTheDocument();
    expect(screen.queryByLabelText('Owner')).not.toBeInTheDocument();
  });
});
