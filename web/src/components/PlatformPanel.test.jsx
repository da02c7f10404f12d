// SPDX-License-Identifier: Apache-2.0
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import PlatformPanel from './PlatformPanel.jsx';
import { json, mockFetch } from '../test/fetchMock.js';

describe('PlatformPanel', () => {
  it('shows stores by status, limits with usage and cluster reachability', async () => {
    mockFetch({
      'GET /api/v1/platform': json(200, {
        version: '0.1.0',
        stores_by_status: { PROVISIONING: 1, READY: 2 },
        limits: {
          max_stores: { limit: 50, used: 3 },
          creates_per_hour: { limit: 5, used: 5 },
          requests_per_window: { limit: 100, used: 12, window_seconds: 900 },
          max_pending_tasks: { limit: 10, used: 1 },
        },
        cluster: { reachable: false, detail: 'connection refused' },
      }),
    });
    render(<PlatformPanel />);
    expect(await screen.findByText('unreachable')).toBeInTheDocument();
    expect(screen.getByText('connection refused')).toBeInTheDocument();
    expect(screen.getByTestId('stores-by-status')).toHaveTextContent('Provisioning1');
    expect(screen.getByTestId('stores-by-status')).toHaveTextContent('Ready2');
    expect(screen.getByTestId('limit-max_stores')).toHaveTextContent('3 of 50');
    expect(screen.getByTestId('limit-creates_per_hour')).toHaveTextContent('5 of 5');
    expect(screen.getByTestId('limit-requests_per_window')).toHaveTextContent('API requests per 15 min');
    expect(screen.getByTestId('limit-requests_per_window')).toHaveTextContent('12 of 100');
  });

  it('says whose use each number counts and lists the orphan namespaces /readyz reports', async () => {
    const { calls } = mockFetch({
      'GET /api/v1/platform': json(200, {
        version: '0.1.0',
        stores_by_status: { READY: 2 },
        limits: {
          max_stores: { limit: 50, used: 3 },
          creates_per_hour: { limit: 5, used: 1 },
          requests_per_window: { limit: 100, used: 12, window_seconds: 900 },
          max_pending_tasks: { limit: 10, used: 1 },
        },
        cluster: { reachable: true, detail: 'v1.33' },
        account: { name: 'root', role: 'admin', limits: {} },
      }),
      'GET /readyz': json(200, {
        status: 'ready',
        checks: { orphan_namespaces: [{ namespace: 'store-old', store_id: 'abc123' }] },
      }),
    });
    render(<PlatformPanel />);
    expect(await screen.findByTestId('orphan-store-old')).toHaveTextContent('store-old (store abc123)');
    expect(screen.getByTestId('orphans')).toHaveTextContent('kubectl delete namespace');
    expect(calls.find((c) => c.path === '/readyz').credentials).toBe('same-origin');
    expect(screen.getByText('Stores by status, all accounts')).toBeInTheDocument();
    expect(screen.getByTestId('limit-max_stores')).toHaveTextContent('Active stores · all accounts');
    expect(screen.getByTestId('limit-creates_per_hour')).toHaveTextContent('Creates this hour · your account');
    expect(screen.getByTestId('limit-requests_per_window')).toHaveTextContent('· your account');
    expect(screen.getByTestId('limit-max_pending_tasks')).toHaveTextContent('Queued operations · all accounts');
  });
});

describe('PlatformPanel for a tenant', () => {
  it("shows the account's own quotas and no platform-wide numbers", async () => {
    mockFetch({
      'GET /api/v1/platform': json(200, {
        version: '0.1.0',
        stores_by_status: { READY: 2 },
        cluster: { reachable: true, detail: 'v1.33.13' },
        account: {
          name: 'alice',
          role: 'tenant',
          limits: { max_stores: { limit: 3, used: 2 }, creates_per_hour: { limit: 5, used: 1 } },
        },
      }),
    });
    render(<PlatformPanel />);
    const quotas = await screen.findByTestId('account-quotas');
    expect(screen.getByTestId('limit-account-max_stores')).toHaveTextContent('Active stores:2 of 3');
    expect(screen.getByTestId('limit-account-creates_per_hour')).toHaveTextContent('1 of 5');
    expect(quotas.parentElement).toHaveTextContent('Your quotas (alice, tenant)');
    // Its own stores by status; no platform-wide limits.
    expect(screen.getByText('Your stores by status')).toBeInTheDocument();
    expect(screen.getByTestId('stores-by-status')).toHaveTextContent('Ready2');
    expect(screen.queryByTestId('limit-max_stores')).not.toBeInTheDocument();
    expect(screen.queryByTestId('limit-requests_per_window')).not.toBeInTheDocument();
  });

  it('shows an admin without a cap as no limit', async () => {
    mockFetch({
      'GET /api/v1/platform': json(200, {
        stores_by_status: { READY: 1 },
        limits: {},
        cluster: { reachable: true },
        account: { name: 'root', role: 'admin', limits: { max_stores: { limit: null, used: 4 } } },
      }),
    });
    render(<PlatformPanel />);
    expect(await screen.findByTestId('limit-account-max_stores')).toHaveTextContent('4 (no limit)');
    expect(screen.getByTestId('stores-by-status')).toBeInTheDocument();
  });
});

describe('PlatformPanel room for stores', () => {
  const full = {
    known: true,
    fits: false,
    stores_that_fit: 0,
    overcommit_percent: 100,
    store_needs: { cpu: 250, memory: 805306368, pods: 3 },
    allocatable: { cpu: 4000, memory: 8589934592, pods: 110 },
    free: { cpu: 1500, memory: 222298112, pods: 80 },
    nodes: [
      {
        name: 'node-a',
        schedulable: true,
        allocatable: { cpu: 4000, memory: 8589934592 },
        requested: { cpu: 2500, memory: 8367636480 },
      },
      {
        name: 'node-b',
        schedulable: false,
        allocatable: { cpu: 2000, memory: 4294967296 },
        requested: { cpu: 0, memory: 0 },
      },
    ],
  };

  it('shows an admin every resource free of allocatable, each node, and what to do when full', async () => {
    mockFetch({
      'GET /api/v1/platform': json(200, {
        stores_by_status: {},
        limits: {},
        cluster: { reachable: true },
        capacity: full,
      }),
    });
    render(<PlatformPanel />);
    expect(await screen.findByTestId('capacity-summary')).toHaveTextContent('Full: a new store does not fit.');
    expect(screen.getByTestId('capacity-advice')).toHaveTextContent(
      'A store needs 768Mi memory, 212Mi is free. Add a node, raise stores.capacity.overcommit_percent, or delete stores.',
    );
    expect(screen.getByTestId('capacity-memory')).toHaveTextContent('Memory free:212Mi of 8Gi');
    expect(screen.getByTestId('capacity-cpu')).toHaveTextContent('CPU free:1500m of 4');
    expect(screen.getByTestId('capacity-node-node-a')).toHaveTextContent(
      'memory 7.8Gi of 8Gi, CPU 2500m of 4 requested',
    );
    expect(screen.getByTestId('capacity-node-node-b')).toHaveTextContent('node-b (not schedulable)');
  });

  it('tells a tenant only whether a store fits', async () => {
    mockFetch({
      'GET /api/v1/platform': json(200, {
        stores_by_status: {},
        cluster: { reachable: true },
        account: { name: 'alice', role: 'tenant', limits: {} },
        capacity: { known: true, fits: false },
      }),
    });
    render(<PlatformPanel />);
    expect(await screen.findByTestId('capacity-summary')).toHaveTextContent('Full: a new store does not fit now.');
    expect(screen.getByTestId('capacity-advice')).toHaveTextContent('ask the operator to add room');
    expect(screen.queryByTestId('capacity-memory')).not.toBeInTheDocument();
    expect(screen.queryByTestId('capacity-nodes')).not.toBeInTheDocument();
  });
});
