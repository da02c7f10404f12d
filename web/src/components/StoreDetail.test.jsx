// SPDX-License-Identifier: Apache-2.0
import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { setCsrfToken } from '../lib/api.js';
import { emit } from '../lib/bus.js';
import StoreDetail from './StoreDetail.jsx';
import { apiError, json, mockFetch, store } from '../test/fetchMock.js';

const ID = '3f9c2a7b1d4e8f60';
const events = {
  items: [
    { id: 1, time: '2026-11-27T20:00:00Z', actor: 'admin', action: 'store.create', detail: 'Store shop1 requested' },
    {
      id: 2,
      time: '2026-11-27T20:00:05Z',
      actor: 'system',
      action: 'helm',
      detail: 'helm upgrade --install: revision 1',
    },
    {
      id: 3,
      time: '2026-11-27T20:00:40Z',
      actor: 'cluster',
      action: 'k8s.event',
      detail: 'Warning FailedScheduling pod/mysql-0',
    },
    {
      id: 4,
      time: '2026-11-27T20:01:00Z',
      actor: 'system',
      action: 'store.failed',
      detail: 'Pod mysql-0 could not be scheduled.',
    },
  ],
};
const releases = {
  items: [
    {
      revision: 1,
      status: 'superseded',
      chart: 'store-woocommerce-0.1.0',
      app_version: '6.8',
      updated: '2026-11-27T20:00:30Z',
      description: 'Install complete',
    },
    {
      revision: 2,
      status: 'deployed',
      chart: 'store-woocommerce-0.2.0',
      app_version: '6.8',
      updated: '2026-11-27T20:10:00Z',
      description: 'Upgrade complete',
    },
  ],
};

function routes(s, extra = {}) {
  return {
    [`GET /api/v1/stores/${ID}`]: json(200, s),
    [`GET /api/v1/stores/${ID}/events`]: json(200, events),
    [`GET /api/v1/stores/${ID}/releases`]: json(200, releases),
    'GET /api/v1/charts': json(200, { items: [{ version: '0.1.0' }, { version: '0.3.0' }, { version: '0.2.0' }] }),
    ...extra,
  };
}

describe('StoreDetail', () => {
  it('shows status, failure reason, timeline and Helm history', async () => {
    mockFetch(
      routes(
        store({
          status: 'FAILED',
          status_reason: 'Pod mysql-0 could not be scheduled: 1 Insufficient memory.',
          helm_revision: 2,
          chart_version: '0.2.0',
        }),
      ),
    );
    render(<StoreDetail id={ID} />);
    expect(await screen.findByRole('heading', { level: 1, name: 'shop1' })).toBeInTheDocument();
    expect(screen.getByTestId('status-shop1')).toHaveTextContent('Failed');
    expect(screen.getByTestId('failure-reason')).toHaveTextContent(
      'Pod mysql-0 could not be scheduled: 1 Insufficient memory.',
    );

    const timeline = await screen.findByTestId('timeline');
    const items = within(timeline).getAllByTestId('timeline-item');
    // Newest first, so the box opens on the latest line, whole; each line with its date.
    expect(items.map((i) => i.dataset.action)).toEqual(['store.failed', 'k8s.event', 'helm', 'store.create']);
    expect(items[1]).toHaveTextContent('cluster');
    expect(items[1]).toHaveTextContent('Warning FailedScheduling pod/mysql-0');
    expect(screen.getByText('newest first')).toBeInTheDocument();
    const stamp = within(items[3]).getByTestId('timeline-time');
    expect(stamp).toHaveAttribute('dateTime', '2026-11-27T20:00:00Z');
    expect(stamp.textContent).toMatch(/Nov/);
    expect(stamp.textContent).toMatch(/27/);
    expect(stamp).toHaveClass('whitespace-nowrap');

    const table = await screen.findByTestId('releases');
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    expect(screen.getByTestId('release-2')).toHaveTextContent('(current)');
    expect(screen.getByTestId('release-1')).toHaveTextContent('superseded');
  });

  it('retries a failed store', async () => {
    const { calls } = mockFetch(
      routes(store({ status: 'FAILED', status_reason: 'boom' }), {
        [`POST /api/v1/stores/${ID}/retry`]: json(
          202,
          store({ status: 'PROVISIONING', step: 'queued', updated_at: '2026-11-27T21:00:00Z' }),
        ),
      }),
    );
    setCsrfToken('t1');
    render(<StoreDetail id={ID} />);
    await userEvent.click(await screen.findByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(screen.getByTestId('status-shop1')).toHaveAttribute('data-status', 'PROVISIONING'));
    const post = calls.find((c) => c.method === 'POST');
    expect(post.path).toBe(`/api/v1/stores/${ID}/retry`);
    expect(post.headers['X-CSRF-Token']).toBe('t1');
    expect(screen.getByRole('progressbar')).toBeInTheDocument();
  });

  it('upgrades to the chosen chart version and rolls back to a chosen revision', async () => {
    const { calls } = mockFetch(
      routes(store({ helm_revision: 2, chart_version: '0.2.0' }), {
        [`POST /api/v1/stores/${ID}/upgrade`]: json(
          202,
          store({ status: 'UPGRADING', updated_at: '2026-11-27T21:00:00Z' }),
        ),
        [`POST /api/v1/stores/${ID}/rollback`]: apiError(
          409,
          'operation_in_progress',
          "Another operation is running on store 'shop1'.",
        ),
      }),
    );
    render(<StoreDetail id={ID} />);
    const version = await screen.findByLabelText('Upgrade to chart version');
    // Newest first, the current version left out.
    expect(
      within(version)
        .getAllByRole('option')
        .map((o) => o.value),
    ).toEqual(['0.3.0', '0.1.0']);
    await userEvent.selectOptions(version, '0.1.0');

    const revision = screen.getByLabelText('Roll back to revision');
    await waitFor(() =>
      expect(
        within(revision)
          .getAllByRole('option')
          .map((o) => o.value),
      ).toEqual(['1']),
    );
    // Asked first, like a delete: nothing is sent until the rollback is confirmed.
    await userEvent.click(screen.getByRole('button', { name: 'Roll back…' }));
    const question = screen.getByTestId('rollback-confirm');
    expect(question).toHaveTextContent('back to revision 1 (chart store-woocommerce-0.1.0)?');
    expect(calls.filter((c) => c.path.endsWith('/rollback'))).toHaveLength(0);
    expect(screen.getByRole('button', { name: 'Roll back to 1' })).toHaveFocus();
    await userEvent.click(screen.getByRole('button', { name: 'Roll back to 1' }));
    expect(await screen.findByTestId('action-error')).toHaveTextContent(
      "Another operation is running on store 'shop1'.",
    );
    expect(calls.find((c) => c.path.endsWith('/rollback')).body).toEqual({ revision: 1 });

    await userEvent.click(screen.getByRole('button', { name: 'Upgrade' }));
    await waitFor(() => expect(screen.getByTestId('status-shop1')).toHaveAttribute('data-status', 'UPGRADING'));
    expect(calls.find((c) => c.path.endsWith('/upgrade')).body).toEqual({ chart_version: '0.1.0' });
    expect(screen.getByRole('button', { name: 'Upgrade' })).toBeDisabled();
  });

  it('deletes only after the name is typed exactly, then goes to the list', async () => {
    window.history.replaceState(null, '', `/stores/${ID}`);
    const { calls } = mockFetch(
      routes(store(), {
        [`DELETE /api/v1/stores/${ID}`]: json(202, store({ status: 'DELETING', updated_at: '2026-11-27T21:00:00Z' })),
      }),
    );
    render(<StoreDetail id={ID} />);
    await userEvent.click(await screen.findByRole('button', { name: 'Delete store…' }));
    const input = screen.getByLabelText('Type shop1 to confirm');
    expect(input).toHaveFocus();
    const confirm = screen.getByTestId('delete-confirm-submit');
    await userEvent.type(input, 'shop');
    expect(confirm).toBeDisabled();
    await userEvent.type(input, '1{Enter}');
    await waitFor(() => expect(window.location.pathname).toBe('/'));
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
  });

  it('cancels a rollback with Escape, sending nothing', async () => {
    const { calls } = mockFetch(routes(store({ helm_revision: 2, chart_version: '0.2.0' })));
    render(<StoreDetail id={ID} />);
    const button = await screen.findByRole('button', { name: 'Roll back…' });
    await waitFor(() => expect(button).toBeEnabled());
    await userEvent.click(button);
    expect(screen.getByTestId('rollback-confirm')).toBeInTheDocument();
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByTestId('rollback-confirm')).not.toBeInTheDocument();
    await waitFor(() => expect(screen.getByRole('button', { name: 'Roll back…' })).toHaveFocus());
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it("says where a deleted store's Helm history went and links its URL no more", async () => {
    mockFetch(
      routes(store({ status: 'DELETED', helm_revision: 3, deleted_at: '2026-11-27T21:05:00Z' }), {
        [`GET /api/v1/stores/${ID}/releases`]: json(200, { items: [] }),
      }),
    );
    render(<StoreDetail id={ID} />);
    const gone = await screen.findByTestId('releases-gone');
    expect(gone).toHaveTextContent('uninstalled when the store was deleted');
    expect(gone).toHaveTextContent('revision 3');
    expect(screen.queryByText('No Helm release yet.')).not.toBeInTheDocument();
    expect(screen.getByTestId('detail-url-gone')).toHaveTextContent('http://shop1.localtest.me (no longer served)');
    expect(screen.queryByRole('link', { name: /shop1\.localtest\.me/ })).not.toBeInTheDocument();
  });

  it("lists a deleted store's recorded revisions with none of them current", async () => {
    mockFetch(routes(store({ status: 'DELETED', helm_revision: 2, deleted_at: '2026-11-27T21:05:00Z' })));
    render(<StoreDetail id={ID} />);
    expect(await screen.findByTestId('release-2')).not.toHaveTextContent('(current)');
    expect(screen.getByTestId('releases-gone')).toHaveTextContent('these are the revisions it had');
  });

  it('puts the actions before the timeline in the page, where a phone shows them first', async () => {
    mockFetch(routes(store()));
    render(<StoreDetail id={ID} />);
    const actions = await screen.findByTestId('actions');
    const timeline = screen.getByRole('region', { name: 'Event timeline' });
    expect(actions.compareDocumentPosition(timeline) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it('cancels the delete with Escape and returns focus', async () => {
    const { calls } = mockFetch(routes(store()));
    render(<StoreDetail id={ID} />);
    await userEvent.click(await screen.findByRole('button', { name: 'Delete store…' }));
    await userEvent.keyboard('shop1{Escape}');
    await waitFor(() => expect(screen.getByRole('button', { name: 'Delete store…' })).toHaveFocus());
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(0);
  });

  it('follows live updates of its store and refreshes the timeline', async () => {
    const r = routes(store({ status: 'PROVISIONING', step: 'helm install', progress: { current: 5, total: 6 } }));
    const { calls } = mockFetch(r);
    render(<StoreDetail id={ID} />);
    expect(await screen.findByRole('progressbar')).toHaveAttribute('aria-valuetext', 'helm install (step 5 of 6)');
    const before = calls.filter((c) => c.path.endsWith('/events')).length;
    act(() =>
      emit('store', store({ id: 'other', name: 'other', status: 'FAILED', updated_at: '2026-11-27T22:00:00Z' })),
    );
    act(() => emit('store', store({ status: 'READY', updated_at: '2026-11-27T21:00:00Z' })));
    expect(screen.getByTestId('status-shop1')).toHaveAttribute('data-status', 'READY');
    expect(screen.queryByRole('progressbar')).not.toBeInTheDocument();
    await waitFor(() => expect(calls.filter((c) => c.path.endsWith('/events')).length).toBe(before + 1));
  });

  it('says when the store does not exist', async () => {
    mockFetch({ [`GET /api/v1/stores/${ID}`]: apiError(404, 'not_found', `No store with ID '${ID}'.`) });
    render(<StoreDetail id={ID} />);
    expect(await screen.findByRole('heading', { name: 'Store not found' })).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent(`No store with ID '${ID}'.`);
  });
});
