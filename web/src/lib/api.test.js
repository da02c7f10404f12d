// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it, vi } from 'vitest';
import {
  ApiError,
  NetworkError,
  isReachable,
  onUnauthorized,
  parseRetryAfter,
  setCsrfToken,
  stores,
  session,
} from './api.js';
import { apiError, json, mockFetch, store } from '../test/fetchMock.js';

describe('api', () => {
  it('sends the CSRF token on mutating calls only, with same-origin credentials', async () => {
    const { calls } = mockFetch({
      'GET /api/v1/stores': json(200, { items: [], total: 0, limit: 50, offset: 0 }),
      'POST /api/v1/stores': json(202, store({ status: 'PROVISIONING' })),
      'DELETE /api/v1/stores/abc': json(202, store({ status: 'DELETING' })),
    });
    setCsrfToken('csrf-1');
    await stores.list({ status: 'READY' });
    await stores.create('shop1');
    await stores.remove('abc');
    expect(calls[0].search).toBe('?status=READY&limit=50&offset=0');
    expect(calls[0].headers['X-CSRF-Token']).toBeUndefined();
    expect(calls[1].headers['X-CSRF-Token']).toBe('csrf-1');
    expect(calls[1].body).toEqual({ name: 'shop1', engine: 'woocommerce' });
    expect(calls[2].headers['X-CSRF-Token']).toBe('csrf-1');
    expect(calls.every((c) => c.credentials === 'same-origin')).toBe(true);
  });

  it('turns error bodies into ApiError with the daemon message and Retry-After', async () => {
    mockFetch({
      'POST /api/v1/stores': apiError(429, 'creation_limited', 'Too many stores created this hour.', {
        'Retry-After': '120',
      }),
    });
    const err = await stores.create('shop1').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(429);
    expect(err.code).toBe('creation_limited');
    expect(err.message).toBe('Too many stores created this hour.');
    expect(err.retryAfter).toBe(120);
  });

  it('describes non-JSON error bodies by status', async () => {
    mockFetch({
      'GET /api/v1/platform': () =>
        new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
    });
    const { platform } = await import('./api.js');
    const err = await platform.get().catch((e) => e);
    expect(err.message).toBe('The daemon answered 502 Bad Gateway.');
  });

  it('reports 401 to listeners except while signing in', async () => {
    mockFetch({
      'GET /api/v1/stores': apiError(401, 'unauthorized', 'Sign in first.'),
      'POST /api/v1/session': apiError(401, 'invalid_token', 'Unknown token.'),
    });
    const seen = vi.fn();
    const off = onUnauthorized(seen);
    await stores.list().catch(() => {});
    await session.create('sa_bad').catch(() => {});
    off();
    expect(seen).toHaveBeenCalledTimes(1);
  });

  it('marks the daemon unreachable on network errors and reachable again on any answer', async () => {
    const routes = { 'GET /api/v1/stores': 'network' };
    mockFetch(routes);
    const err = await stores.list().catch((e) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(isReachable()).toBe(false);
    routes['GET /api/v1/stores'] = json(200, { items: [], total: 0 });
    await stores.list();
    expect(isReachable()).toBe(true);
  });

  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('30')).toBe(30);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
    const now = Date.parse('2026-11-27T20:00:00Z');
    expect(parseRetryAfter('Fri, 27 Nov 2026 20:01:30 GMT', now)).toBe(90);
  });
});
