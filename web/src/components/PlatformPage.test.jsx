// SPDX-License-Identifier: Apache-2.0
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { describe, expect, it } from 'vitest';
import PlatformPage, { barLayout } from './PlatformPage.jsx';
import { json, mockFetch } from '../test/fetchMock.js';

const GI = 2 ** 30;
const at = (h) => new Date(Date.UTC(2026, 11, 1, h)).toISOString().replace(/\.\d+Z$/, 'Z');
const counts = (ready, prov, failed = 0) => ({
  PROVISIONING: prov,
  READY: ready,
  FAILED: failed,
  UPGRADING: 0,
  DELETING: 0,
});

const STATS = {
  stores_by_status: {
    window_seconds: 86400,
    complete_since: null,
    points: [
      { at: at(0), counts: counts(0, 0) },
      { at: at(12), counts: counts(1, 2) },
      { at: at(23), counts: counts(3, 1, 1) },
    ],
  },
  provisioning: {
    requested: 20,
    p50_seconds: 42,
    p95_seconds: 95,
    creates: [
      { id: 'c3', name: 'newest', created_at: at(22), ready_at: at(22), seconds: 95 },
      { id: 'c2', name: 'middle', created_at: at(12), ready_at: at(12), seconds: 42 },
      { id: 'c1', name: 'oldest', created_at: at(1), ready_at: at(1), seconds: 30 },
    ],
  },
  capacity: {
    known: true,
    fits: true,
    stores_that_fit: 5,
    active_stores: 4,
    overcommit_percent: 100,
    store_needs: { memory: GI, cpu: 500, pods: 3 },
    allocatable: { memory: 16 * GI, cpu: 8000, pods: 110 },
    used_by_other_pods: { memory: 2 * GI, cpu: 1000, pods: 10 },
    reserved_by_stores: { memory: 4 * GI, cpu: 2000, pods: 12 },
    free: { memory: 10 * GI, cpu: 5000, pods: 88 },
    nodes: [],
  },
};

describe('Platform page', () => {
  it('draws the stores of each status over time, with the latest count and peak in words and a table', async () => {
    mockFetch({ 'GET /api/v1/platform/stats': json(200, STATS) });
    render(<PlatformPage />);
    const ready = await screen.findByTestId('status-READY');
    expect(within(ready).getByTestId('status-READY-summary')).toHaveTextContent('Now 3; peak 3 in the last 24 hours.');
    expect(screen.getByTestId('status-PROVISIONING-summary')).toHaveTextContent('Now 1; peak 2');
    expect(screen.getByTestId('status-FAILED-summary')).toHaveTextContent('Now 1; peak 1');
    // A status no store had in the period gets no chart.
    expect(screen.queryByTestId('status-DELETING')).toBeNull();
    const rows = within(screen.getByTestId('status-history-table')).getAllByRole('row');
    expect(rows).toHaveLength(4);
    expect(rows[3]).toHaveTextContent(/311$/);
  });

  it('draws a bar per create, oldest first, with the p50 and p95 lines, and says both', async () => {
    mockFetch({ 'GET /api/v1/platform/stats': json(200, STATS) });
    render(<PlatformPage />);
    expect(await screen.findByTestId('provision-summary')).toHaveTextContent(
      'Over the last 3 creates: half were ready within 42 s (p50), 95% within 1 min 35 s (p95).',
    );
    const bars = screen.getAllByTestId('provision-bar');
    expect(bars).toHaveLength(3);
    const heights = bars.map((b) => Number(b.getAttribute('height')));
    expect(heights[0]).toBeLessThan(heights[1]);
    expect(heights[1]).toBeLessThan(heights[2]);
    const p50 = Number(screen.getByTestId('provision-p50').getAttribute('y1'));
    const p95 = Number(screen.getByTestId('provision-p95').getAttribute('y1'));
    // The p50 line at the middle bar's top, the p95 line at the tallest's.
    expect(p50).toBeCloseTo(Number(bars[1].getAttribute('y')), 5);
    expect(p95).toBeCloseTo(Number(bars[2].getAttribute('y')), 5);
    expect(within(screen.getByTestId('provision-table')).getAllByRole('row')[1]).toHaveTextContent('newest');
  });

  it('lays the bars out to scale', () => {
    const l = barLayout([10, 20], 10, 20, { width: 108, height: 112 });
    expect(l.bars[1].h).toBeCloseTo(2 * l.bars[0].h, 5);
    expect(l.p95).toBeCloseTo(l.bars[1].y, 5);
  });

  it('shows the room left of each resource, after what the stores reserve', async () => {
    mockFetch({ 'GET /api/v1/platform/stats': json(200, STATS) });
    render(<PlatformPage />);
    expect(await screen.findByTestId('room-summary')).toHaveTextContent(
      '5 more stores fit; 4 active stores reserve their quotas.',
    );
    expect(screen.getByTestId('room-memory')).toHaveTextContent('10Gi left of 16Gi: stores 4Gi, other pods 2Gi');
    expect(screen.getByTestId('room-cpu')).toHaveTextContent('5 left of 8: stores 2, other pods 1');
  });

  it('asks for the period and the number of creates picked', async () => {
    const { calls } = mockFetch({ 'GET /api/v1/platform/stats': json(200, STATS) });
    render(<PlatformPage />);
    await screen.findByTestId('provision-summary');
    expect(calls.at(-1).search).toBe('?window=86400&creates=20&points=48');
    await userEvent.click(screen.getByTestId('window-604800'));
    await waitFor(() => expect(calls.at(-1).search).toBe('?window=604800&creates=20&points=84'));
    expect(screen.getByTestId('window-604800')).toHaveAttribute('aria-pressed', 'true');
    await userEvent.selectOptions(screen.getByTestId('creates-picker'), '50');
    await waitFor(() => expect(calls.at(-1).search).toBe('?window=604800&creates=50&points=84'));
  });

  it('says when nothing is known yet, and has no accessibility violations', async () => {
    mockFetch({
      'GET /api/v1/platform/stats': json(200, {
        ...STATS,
        provisioning: { requested: 20, creates: [], p50_seconds: null, p95_seconds: null },
        capacity: { known: false, detail: 'no cluster connection configured' },
      }),
    });
    render(
      <main>
        <PlatformPage />
      </main>,
    );
    expect(await screen.findByTestId('provision-none')).toHaveTextContent('No store has become ready yet.');
    expect(screen.getByTestId('room-unknown')).toHaveTextContent('Unknown: no cluster connection configured');
    const result = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } });
    expect(result.violations.map((v) => v.id)).toEqual([]);
  });
});
