// SPDX-License-Identifier: Apache-2.0
import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import UsageChart, { chartSegments } from './UsageChart.jsx';
import UsagePanel from './UsagePanel.jsx';
import { formatBytes, formatCpu } from '../lib/format.js';
import { json, mockFetch, store } from '../test/fetchMock.js';

const ID = '3f9c2a7b1d4e8f60';
const MI = 2 ** 20;
const GI = 2 ** 30;
const ago = (s) => new Date(Date.now() - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
const sample = (s, cpu, mem) => ({
  at: ago(s),
  cpu_millicores: cpu,
  memory_bytes: mem,
  cpu_quota_millicores: 4000,
  memory_quota_bytes: 2 * GI,
  storage_requested_bytes: 4 * GI,
  storage_quota_bytes: null,
  pods:
    cpu == null
      ? []
      : [
          { name: 'shop1-mysql-0', cpu_millicores: cpu / 2, memory_bytes: mem / 2 },
          { name: 'shop1-wordpress-7d9', cpu_millicores: cpu / 2, memory_bytes: mem / 2 },
        ],
});

describe('Usage chart', () => {
  it('scales values into the box and breaks the line where a value is unknown', () => {
    const segs = chartSegments(
      [
        { t: 0, v: 0 },
        { t: 50, v: 100 },
        { t: 60, v: null },
        { t: 100, v: 50 },
      ],
      { max: 100, from: 0, to: 100, width: 108, height: 108 },
    );
    expect(segs).toEqual(['4.0,104.0 54.0,4.0', '104.0,54.0']);
  });

  it('says the latest value against the limit in words, and draws the limit', () => {
    render(
      <UsageChart
        title="CPU"
        values={[
          { t: 1, v: 100 },
          { t: 2, v: 300 },
        ]}
        limit={4000}
        format={formatCpu}
        from={0}
        to={3}
        testId="c"
      />,
    );
    expect(screen.getByTestId('c-summary')).toHaveTextContent('Now 300m of 4 cores (8%); peak 300m in the last hour.');
    expect(screen.getByTestId('c-limit')).toBeInTheDocument();
    expect(screen.getByTestId('c').querySelector('svg')).toHaveAttribute('aria-hidden', 'true');
  });
});

describe('Usage panel', () => {
  it('charts CPU and memory against the quota and lists each pod', async () => {
    mockFetch({
      [`GET /api/v1/stores/${ID}/usage`]: json(200, {
        store: ID,
        metrics: 'available',
        interval_seconds: 30,
        window_seconds: 3600,
        samples: [sample(60, 200, 300 * MI), sample(30, 300, 400 * MI)],
      }),
    });
    render(<UsagePanel store={store()} />);
    const panel = await screen.findByTestId('usage');
    expect(await within(panel).findByTestId('usage-cpu-summary')).toHaveTextContent('Now 300m of 4 cores (8%)');
    expect(within(panel).getByTestId('usage-memory-summary')).toHaveTextContent('Now 400 MiB of 2 GiB (20%)');
    expect(within(panel).getByTestId('usage-storage-summary')).toHaveTextContent('Now 4 GiB;');
    const rows = within(within(panel).getByTestId('usage-pods')).getAllByRole('row');
    expect(rows[1]).toHaveTextContent('shop1-mysql-0150m200 MiB');
    expect(within(panel).queryByTestId('usage-unavailable')).toBeNull();
  });

  it('says why CPU and memory are missing instead of drawing zeros', async () => {
    mockFetch({
      [`GET /api/v1/stores/${ID}/usage`]: json(200, {
        store: ID,
        metrics: 'unavailable',
        reason: 'The cluster does not serve the metrics.k8s.io API (is metrics-server installed?).',
        interval_seconds: 30,
        window_seconds: 3600,
        samples: [sample(30, null, null)],
      }),
    });
    render(<UsagePanel store={store()} />);
    const note = await screen.findByTestId('usage-unavailable');
    expect(note).toHaveTextContent('CPU and memory use cannot be shown: The cluster does not serve the metrics.k8s.io');
    expect(screen.queryByTestId('usage-cpu')).toBeNull();
    expect(screen.queryByTestId('usage-memory')).toBeNull();
    expect(screen.getByTestId('usage-storage-summary')).toHaveTextContent('Now 4 GiB');
  });

  it('formats amounts as people read them', () => {
    expect(formatCpu(1500)).toBe('1.5 cores');
    expect(formatCpu(1000)).toBe('1 core');
    expect(formatBytes(200 * MI)).toBe('200 MiB');
    expect(formatBytes(1.5 * GI)).toBe('1.5 GiB');
  });
});
