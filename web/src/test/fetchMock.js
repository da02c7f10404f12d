// SPDX-License-Identifier: Apache-2.0
// fetch mocked at the network boundary: tests declare what the daemon answers
// per "METHOD /path" and read back what the dashboard sent.
import { vi } from 'vitest';

export function json(status, body, headers = {}) {
  return () =>
    new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { 'Content-Type': 'application/json', ...headers },
    });
}

export function apiError(status, code, message, headers) {
  return json(status, { error: { code, message } }, headers);
}

/**
 * routes: { 'GET /api/v1/stores': json(200, {...}) | (request) => Response }
 * A key without a query matches any query; a key with one must match exactly.
 */
export function mockFetch(routes) {
  const calls = [];
  const fn = vi.fn(async (input, init = {}) => {
    const url = new URL(String(input), 'http://localhost');
    const method = (init.method || 'GET').toUpperCase();
    const call = {
      method,
      path: url.pathname,
      search: url.search,
      headers: init.headers || {},
      body: init.body ? JSON.parse(init.body) : undefined,
      credentials: init.credentials,
    };
    calls.push(call);
    const handler = routes[`${method} ${url.pathname}${url.search}`] ?? routes[`${method} ${url.pathname}`];
    if (!handler)
      return new Response(
        JSON.stringify({ error: { code: 'not_found', message: `unmocked ${method} ${url.pathname}` } }),
        { status: 404 },
      );
    if (handler === 'network') throw new TypeError('Failed to fetch');
    return handler(call);
  });
  vi.stubGlobal('fetch', fn);
  return { fn, calls, routes };
}

export function store(overrides = {}) {
  return {
    id: '3f9c2a7b1d4e8f60',
    name: 'shop1',
    engine: 'woocommerce',
    owner: 'admin',
    status: 'READY',
    status_reason: null,
    step: null,
    progress: null,
    url: 'http://shop1.localtest.me',
    chart_version: '0.1.0',
    helm_revision: 1,
    created_at: '2026-11-27T20:00:00Z',
    updated_at: '2026-11-27T20:01:00Z',
    deleted_at: null,
    ...overrides,
  };
}

/** A stand-in EventSource the tests drive by hand. */
export class FakeEventSource {
  static instances = [];
  constructor(url) {
    this.url = url;
    this.listeners = {};
    this.closed = false;
    FakeEventSource.instances.push(this);
  }
  addEventListener(type, fn) {
    (this.listeners[type] ||= []).push(fn);
  }
  close() {
    this.closed = true;
  }
  dispatch(type, data) {
    for (const fn of this.listeners[type] || [])
      fn({ type, data: data === undefined ? undefined : JSON.stringify(data) });
  }
  static latest() {
    return FakeEventSource.instances[FakeEventSource.instances.length - 1];
  }
}
