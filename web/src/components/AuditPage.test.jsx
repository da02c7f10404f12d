// SPDX-License-Identifier: Apache-2.0
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import AuditPage from './AuditPage.jsx';
import { json, mockFetch } from '../test/fetchMock.js';

const entry = (id, extra = {}) => ({
  id,
  time: '2026-11-27T20:00:00Z',
  actor: 'alice',
  token: 'laptop',
  action: 'store.create',
  target_kind: 'store',
  target: 'shop1',
  store_id: '3f9c2a7b1d4e8f60',
  result: 'ok',
  error: null,
  source: 'rest',
  request_id: `req-${id}`,
  ...extra,
});

describe('Audit page', () => {
  it('highlights refused requests and failed sign-ins', async () => {
    mockFetch({
      'GET /api/v1/audit': json(200, {
        items: [
          entry(9),
          entry(8, { actor: 'bob', action: 'store.delete', result: 'denied', error: 'not_found' }),
          entry(7, {
            actor: '-',
            token: null,
            action: 'auth.failed',
            target_kind: null,
            target: null,
            store_id: null,
            result: 'failed',
            error: 'invalid_token',
          }),
          entry(6, { action: 'store.upgrade', result: 'failed', error: 'helm_failed' }),
        ],
        next: null,
      }),
    });
    render(<AuditPage />);
    const rows = await screen.findAllByTestId('audit-row');
    expect(rows.map((r) => r.dataset.security)).toEqual(['false', 'true', 'true', 'false']);
    expect(rows[1]).toHaveTextContent('Security: denied');
    expect(rows[2]).toHaveTextContent('Security: failed');
    expect(rows[3]).not.toHaveTextContent('Security');
    expect(screen.getByTestId('audit-count')).toHaveTextContent('4 entries, 2 security events');
  });

  it('filters through the API, pages with next, and exports the same filter as JSON lines', async () => {
    const { calls } = mockFetch({
      'GET /api/v1/audit': (call) => {
        const q = new URLSearchParams(call.search);
        if (q.get('before') === '5') return json(200, { items: [entry(4), entry(3)], next: null })();
        return json(200, { items: [entry(6), entry(5)], next: 5 })();
      },
    });
    render(<AuditPage />);
    await screen.findAllByTestId('audit-row');
    await userEvent.type(screen.getByLabelText('Actor'), 'alice');
    await userEvent.selectOptions(screen.getByLabelText('Result'), 'denied');
    await userEvent.type(screen.getByLabelText('Action'), 'store.');
    await userEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    await waitFor(() => expect(calls.filter((c) => c.path === '/api/v1/audit')).toHaveLength(2));
    const q = new URLSearchParams(calls[1].search);
    expect(Object.fromEntries(q)).toEqual({ actor: 'alice', action: 'store.', result: 'denied', limit: '50' });
    expect(screen.getByRole('link', { name: 'Export as JSON lines' })).toHaveAttribute(
      'href',
      '/api/v1/audit?actor=alice&action=store.&result=denied&format=jsonl',
    );

    await screen.findByTestId('audit-more');
    await userEvent.click(screen.getByRole('button', { name: 'Show older entries' }));
    await waitFor(() => expect(screen.getAllByTestId('audit-row')).toHaveLength(4));
    expect(new URLSearchParams(calls[2].search).get('before')).toBe('5');
    expect(new URLSearchParams(calls[2].search).get('actor')).toBe('alice');
    expect(screen.queryByTestId('audit-more')).not.toBeInTheDocument();
  });

  it('sends a time range as ISO 8601', async () => {
    const { calls } = mockFetch({ 'GET /api/v1/audit': json(200, { items: [], next: null }) });
    render(<AuditPage />);
    expect(await screen.findByTestId('audit-empty')).toHaveTextContent('No entries match');
    await userEvent.type(screen.getByLabelText('From'), '2026-11-27T20:00');
    await userEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    await waitFor(() => expect(calls).toHaveLength(2));
    expect(new URLSearchParams(calls[1].search).get('since')).toBe(new Date('2026-11-27T20:00').toISOString());
    expect(within(screen.getByTestId('audit-page')).queryByRole('table')).not.toBeInTheDocument();
  });
});
