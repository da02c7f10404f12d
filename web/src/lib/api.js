// SPDX-License-Identifier: Apache-2.0
// The one place that talks to storeagentd's REST API. Every call goes through
// api() so CSRF, error decoding, 401 handling and reachability live here once.

const BASE = '/api/v1';

let csrfToken = null;
const unauthorizedListeners = new Set();
const reachabilityListeners = new Set();
let reachable = true;
let rateLimitedUntil = 0;

export function setCsrfToken(token) {
  csrfToken = token || null;
}

/** Called with no arguments when any call (other than signing in) gets 401. */
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export function isReachable() {
  return reachable;
}

/** fn(reachable: boolean) whenever a request fails at the network level or succeeds again. */
export function onReachability(fn) {
  reachabilityListeners.add(fn);
  return () => reachabilityListeners.delete(fn);
}

/** Until when (ms epoch) the daemon asked us to hold off all requests (429 rate_limited). */
export function rateLimitedUntilMs() {
  return rateLimitedUntil;
}

export function setReachable(value) {
  if (value === reachable) return;
  reachable = value;
  for (const fn of reachabilityListeners) fn(value);
}

/** The daemon answered with a non-2xx status; message is its sentence, shown verbatim. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter; // seconds, or null
  }
}

/** The request never got an HTTP answer: daemon down, network gone. */
export class NetworkError extends Error {
  constructor(cause) {
    super('The daemon is unreachable. Check that storeagentd is running.');
    this.name = 'NetworkError';
    this.cause = cause;
  }
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value, now = Date.now()) {
  if (value == null || value === '') return null;
  const trimmed = String(value).trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function api(path, { method = 'GET', body, signal, expectUnauthorized = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (MUTATING.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  let res;
  try {
    res = await fetch(BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal,
    });
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    setReachable(false);
    throw new NetworkError(err);
  }
  setReachable(true);

  const text = await res.text().catch(() => '');
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }

  if (!res.ok) {
    const e = data && typeof data === 'object' ? data.error : null;
    const err = new ApiError(
      res.status,
      e?.code || `http_${res.status}`,
      e?.message || `The daemon answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`,
      parseRetryAfter(res.headers.get('Retry-After')),
    );
    if (res.status === 429 && err.code === 'rate_limited' && err.retryAfter != null) {
      rateLimitedUntil = Date.now() + err.retryAfter * 1000;
    }
    if (res.status === 401 && !expectUnauthorized) {
      for (const fn of unauthorizedListeners) fn();
    }
    throw err;
  }
  return data;
}

export const session = {
  get: () => api('/session', { expectUnauthorized: true }),
  create: (token) => api('/session', { method: 'POST', body: { token }, expectUnauthorized: true }),
  destroy: () => api('/session', { method: 'DELETE', expectUnauthorized: true }),
};

export const stores = {
  list: ({ status, owner, limit = 50, offset = 0 } = {}, opts) => {
    const q = new URLSearchParams();
    if (status) q.set('status', status);
    if (owner) q.set('owner', owner);
    q.set('limit', String(limit));
    q.set('offset', String(offset));
    return api(`/stores?${q}`, opts);
  },
  get: (id, opts) => api(`/stores/${encodeURIComponent(id)}`, opts),
  // settings: { title, currency, country, admin_email } (only those set), or nothing for the chart's defaults.
  create: (name, engine = 'woocommerce', settings) =>
    api('/stores', { method: 'POST', body: settings ? { name, engine, settings } : { name, engine } }),
  remove: (id) => api(`/stores/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  retry: (id) => api(`/stores/${encodeURIComponent(id)}/retry`, { method: 'POST' }),
  upgrade: (id, chartVersion) =>
    api(`/stores/${encodeURIComponent(id)}/upgrade`, { method: 'POST', body: { chart_version: chartVersion } }),
  rollback: (id, revision) => api(`/stores/${encodeURIComponent(id)}/rollback`, { method: 'POST', body: { revision } }),
  redeploy: (id) => api(`/stores/${encodeURIComponent(id)}/redeploy`, { method: 'POST' }),
  settings: (id, opts) => api(`/stores/${encodeURIComponent(id)}/settings`, opts),
  // changes: { title, currency, country, admin_email }, each a string or null (the chart's default).
  changeSettings: (id, changes) =>
    api(`/stores/${encodeURIComponent(id)}/settings`, { method: 'PATCH', body: changes }),
  domains: (id, opts) => api(`/stores/${encodeURIComponent(id)}/domains`, opts),
  addDomain: (id, domain) => api(`/stores/${encodeURIComponent(id)}/domains`, { method: 'POST', body: { domain } }),
  removeDomain: (id, domain) =>
    api(`/stores/${encodeURIComponent(id)}/domains/${encodeURIComponent(domain)}`, { method: 'DELETE' }),
  // domain: one of the store's domains, or null for the store's own host.
  setPrimaryDomain: (id, domain) =>
    api(`/stores/${encodeURIComponent(id)}/primary-domain`, { method: 'POST', body: { domain } }),
  events: (id, opts) => api(`/stores/${encodeURIComponent(id)}/events?limit=100`, opts),
  releases: (id, opts) => api(`/stores/${encodeURIComponent(id)}/releases`, opts),
  // The answer holds the WordPress admin password: callers keep it in component state only.
  credentials: (id, opts) => api(`/stores/${encodeURIComponent(id)}/credentials`, opts),
  rotateCredentials: (id) => api(`/stores/${encodeURIComponent(id)}/credentials/rotate`, { method: 'POST' }),
  transfer: (id, account) => api(`/stores/${encodeURIComponent(id)}/transfer`, { method: 'POST', body: { account } }),
  logSources: (id, opts) => api(`/stores/${encodeURIComponent(id)}/logs`, opts),
  usage: (id, opts) => api(`/stores/${encodeURIComponent(id)}/usage`, opts),
  /** The URL of a container's log: the whole log with tail 0 (a download), the last lines otherwise. */
  logUrl: (id, pod, container, { tail = 200, follow = false } = {}) => {
    const q = new URLSearchParams({ container, tail: String(tail) });
    if (follow) q.set('follow', 'true');
    return `${BASE}/stores/${encodeURIComponent(id)}/logs/${encodeURIComponent(pod)}?${q}`;
  },
};

/**
 * Reads a text response as it arrives (a container's log, followed): onText(chunk) for each piece,
 * until the daemon ends it or signal aborts it. Errors as api() throws them.
 */
export async function readTextStream(url, { signal, onText }) {
  let res;
  try {
    res = await fetch(url, { headers: { Accept: 'text/plain' }, credentials: 'same-origin', signal });
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    setReachable(false);
    throw new NetworkError(err);
  }
  setReachable(true);
  if (!res.ok) {
    let e = null;
    try {
      e = (await res.json())?.error ?? null;
    } catch {
      e = null;
    }
    throw new ApiError(
      res.status,
      e?.code || `http_${res.status}`,
      e?.message || `The daemon answered ${res.status}.`,
      parseRetryAfter(res.headers.get('Retry-After')),
    );
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    onText(decoder.decode(value, { stream: true }));
  }
  const rest = decoder.decode();
  if (rest) onText(rest);
}

const acct = (name) => `/accounts/${encodeURIComponent(name)}`;

export const accounts = {
  list: (opts) => api('/accounts', opts),
  get: (name, opts) => api(acct(name), opts),
  create: (body) => api('/accounts', { method: 'POST', body }),
  update: (name, body) => api(acct(name), { method: 'PATCH', body }),
  tokens: (name, opts) => api(`${acct(name)}/tokens`, opts),
  createToken: (name, body) => api(`${acct(name)}/tokens`, { method: 'POST', body }),
  revokeToken: (name, token) => api(`${acct(name)}/tokens/${encodeURIComponent(token)}`, { method: 'DELETE' }),
};

/** The signed-in account's own tokens. */
export const tokens = {
  list: (opts) => api('/tokens', opts),
  create: (body) => api('/tokens', { method: 'POST', body }),
  revoke: (name) => api(`/tokens/${encodeURIComponent(name)}`, { method: 'DELETE' }),
};

/** The signed-in account's own webhooks. */
export const webhooks = {
  list: (opts) => api('/webhooks', opts),
  create: (body) => api('/webhooks', { method: 'POST', body }),
  remove: (id) => api(`/webhooks/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  setEnabled: (id, enabled) => api(`/webhooks/${encodeURIComponent(id)}`, { method: 'PATCH', body: { enabled } }),
  deliveries: (id, opts) => api(`/webhooks/${encodeURIComponent(id)}/deliveries`, opts),
  test: (id) => api(`/webhooks/${encodeURIComponent(id)}/test`, { method: 'POST', body: {} }),
};

const AUDIT_FILTERS = ['actor', 'action', 'store', 'result', 'since', 'until'];

/** The query string for an audit filter: only the fields that are set. */
export function auditQuery(filter = {}, extra = {}) {
  const q = new URLSearchParams();
  for (const k of AUDIT_FILTERS) if (filter[k]) q.set(k, filter[k]);
  for (const [k, v] of Object.entries(extra)) if (v != null && v !== '') q.set(k, String(v));
  return q.toString();
}

export const audit = {
  list: (filter, { before, limit = 50 } = {}, opts) => api(`/audit?${auditQuery(filter, { before, limit })}`, opts),
  /** A plain link: the browser downloads the JSON lines with the session cookie. */
  exportUrl: (filter) => `${BASE}/audit?${auditQuery(filter, { format: 'jsonl' })}`,
};

export const charts = {
  list: (opts) => api('/charts', opts),
};

export const platform = {
  get: (opts) => api('/platform', opts),
  stats: (query, opts) => api(`/platform/stats?${new URLSearchParams(query)}`, opts),
};

/** The readiness check: an admin's answer carries its details (checks.orphan_namespaces among them). */
export const health = {
  ready: async () => {
    const res = await fetch('/readyz', { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    return res.json();
  },
};
