// SPDX-License-Identifier: Apache-2.0
import { useCallback, useEffect, useRef, useState } from 'react';
import { NetworkError, accounts as accountsApi, stores as storesApi } from '../lib/api.js';
import { announce } from '../lib/announce.js';
import { useBus, useNow } from '../lib/hooks.js';
import { Link, navigate, useLocation } from '../lib/router.js';
import { isAdmin, useSession } from '../lib/session.js';
import { BUSY, STATUSES, STATUS_LABEL, isStale } from '../lib/status.js';
import ErrorNotice from './ErrorNotice.jsx';
import Progress from './Progress.jsx';
import StatusBadge from './StatusBadge.jsx';
import Time from './Time.jsx';

export const PAGE_SIZE = 50;

function matches(store, filter, owner) {
  if (owner && store.owner !== owner) return false;
  return filter ? store.status === filter : store.status !== 'DELETED';
}

// Admins get an owner column; the class names stay literal for Tailwind.
const COLS = {
  head: 'grid-cols-[minmax(0,1.2fr)_minmax(0,1.5fr)_minmax(0,1.3fr)_7rem_7rem]',
  row: 'md:grid-cols-[minmax(0,1.2fr)_minmax(0,1.5fr)_minmax(0,1.3fr)_7rem_7rem]',
};
const COLS_OWNER = {
  head: 'grid-cols-[minmax(0,1.2fr)_minmax(0,1fr)_minmax(0,1.5fr)_minmax(0,1.3fr)_7rem_7rem]',
  row: 'md:grid-cols-[minmax(0,1.2fr)_minmax(0,1fr)_minmax(0,1.5fr)_minmax(0,1.3fr)_7rem_7rem]',
};

const newer = isStale;

function byCreatedDesc(a, b) {
  return (b.created_at ?? '').localeCompare(a.created_at ?? '') || a.name.localeCompare(b.name);
}

// The orders the list offers; the API's is newest first.
export const SORTS = {
  created: ['Newest first', byCreatedDesc],
  'created-asc': ['Oldest first', (a, b) => -byCreatedDesc(a, b)],
  name: ['Name A–Z', (a, b) => a.name.localeCompare(b.name)],
  changed: ['Last change', (a, b) => (b.updated_at ?? '').localeCompare(a.updated_at ?? '') || byCreatedDesc(a, b)],
};

// A status picked with the arrow keys changes the select's value on every key: the list asks
// the daemon once the choice has rested this long.
export const FILTER_DELAY_MS = 400;

function searchMatches(s, words) {
  const text = `${s.name} ${s.owner ?? ''} ${s.url ?? ''}`.toLowerCase();
  return words.every((w) => text.includes(w));
}

export default function StoreList() {
  const { search } = useLocation();
  const filter = STATUSES.includes(search.get('status')) ? search.get('status') : '';
  const offset = Math.max(0, Number.parseInt(search.get('offset') ?? '0', 10) || 0);
  const admin = isAdmin(useSession());
  // Tenants always get their own stores; the owner filter is for admins.
  const owner = admin ? (search.get('owner') ?? '') : '';
  const [owners, setOwners] = useState([]);
  const cols = admin ? COLS_OWNER : COLS;
  const [query, setQueryText] = useState('');
  const [sort, setSort] = useState('created');
  // The status shown in the select, ahead of the list while the choice rests.
  const [statusChoice, setStatusChoice] = useState(filter);
  const statusTimer = useRef(null);
  useEffect(() => setStatusChoice(filter), [filter]);
  useEffect(() => () => clearTimeout(statusTimer.current), []);

  const [state, setState] = useState({ items: [], total: 0, loaded: false });
  const [error, setError] = useState(null);
  const now = useNow();
  // The freshest copy of each store seen on the stream, so a list response that
  // was in flight while an event arrived cannot roll a row back.
  const seen = useRef(new Map());
  const request = useRef(0);
  const itemsRef = useRef(state.items);
  itemsRef.current = state.items;

  const load = useCallback(async () => {
    const n = ++request.current;
    try {
      const page = await storesApi.list({
        status: filter || undefined,
        owner: owner || undefined,
        limit: PAGE_SIZE,
        offset,
      });
      if (n !== request.current) return;
      let items = (page?.items ?? []).map((s) => (newer(seen.current.get(s.id), s) ? seen.current.get(s.id) : s));
      items = items.filter((s) => matches(s, filter, owner)).sort(byCreatedDesc);
      setState({ items, total: page?.total ?? items.length, loaded: true });
      setError(null);
    } catch (err) {
      if (n !== request.current) return;
      setError(err);
      setState((s) => ({ ...s, loaded: true }));
    }
  }, [filter, owner, offset]);

  useEffect(() => {
    setState({ items: [], total: 0, loaded: false });
    load();
  }, [load]);

  useEffect(() => {
    if (!admin) return;
    accountsApi
      .list()
      .then((r) => setOwners((r?.items ?? []).map((a) => a.name)))
      .catch(() => setOwners([]));
  }, [admin]);

  useBus('refresh', load);

  useBus('store', (store) => {
    const prev = seen.current.get(store.id);
    if (prev && newer(prev, store)) return;
    seen.current.set(store.id, store);
    const shown = itemsRef.current.find((x) => x.id === store.id);
    if (shown && !newer(shown, store) && shown.status !== store.status) {
      announce(
        store.status === 'DELETED'
          ? `Store ${store.name} was deleted.`
          : `Store ${store.name} is now ${STATUS_LABEL[store.status] ?? store.status}.`,
      );
    }
    setState((s) => {
      const i = s.items.findIndex((x) => x.id === store.id);
      const old = i >= 0 ? s.items[i] : null;
      if (old && newer(old, store)) return s;
      if (matches(store, filter, owner)) {
        if (old) {
          const items = s.items.slice();
          items[i] = store;
          return { ...s, items };
        }
        if (offset !== 0) return { ...s, total: s.total + 1 };
        return { ...s, items: [store, ...s.items].sort(byCreatedDesc), total: s.total + 1 };
      }
      if (old) {
        return { ...s, items: s.items.filter((x) => x.id !== store.id), total: Math.max(0, s.total - 1) };
      }
      return s;
    });
  });

  function setQuery(next) {
    const q = new URLSearchParams();
    const status = next.status ?? filter;
    const who = next.owner ?? owner;
    const off = next.offset ?? offset;
    if (status) q.set('status', status);
    if (who) q.set('owner', who);
    if (off) q.set('offset', String(off));
    const qs = q.toString();
    navigate(qs ? `/?${qs}` : '/', { replace: next.status !== undefined || next.owner !== undefined });
  }

  function chooseStatus(value) {
    setStatusChoice(value);
    clearTimeout(statusTimer.current);
    statusTimer.current = setTimeout(() => {
      if (value !== filter) setQuery({ status: value, offset: 0 });
    }, FILTER_DELAY_MS);
  }

  const { total, loaded } = state;
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const items = state.items.filter((s) => searchMatches(s, words)).sort(SORTS[sort][1]);
  const searching = words.length > 0;
  const onePage = total <= PAGE_SIZE;

  return (
    <section aria-labelledby="stores-title" className="card">
      <div className="flex flex-wrap items-end justify-between gap-3 border-b border-slate-200 px-4 py-3 sm:px-5">
        <div>
          <h2 id="stores-title" className="text-base font-semibold text-slate-900">
            Stores
          </h2>
          <p className="text-sm text-slate-600" aria-live="polite" data-testid="store-count">
            {!loaded
              ? 'Loading…'
              : `${searching ? `${items.length} of ` : ''}${total} ${total === 1 ? 'store' : 'stores'}${filter ? ` ${STATUS_LABEL[filter].toLowerCase()}` : ''}${owner ? ` of ${owner}` : ''}${searching ? (onePage ? ' match' : ' on this page match') : ''}`}
          </p>
        </div>
        {/* Two controls a row on a phone, one line from a tablet up. */}
        <div className="grid w-full grid-cols-2 gap-x-3 gap-y-2 sm:flex sm:w-auto sm:flex-wrap sm:gap-3">
          <div>
            <label htmlFor="store-search" className="block text-xs font-medium text-slate-700">
              {onePage ? 'Search' : 'Search this page'}
            </label>
            <input
              id="store-search"
              type="search"
              className="field mt-0.5 h-9 w-full sm:w-44"
              placeholder="name, owner…"
              autoComplete="off"
              spellCheck={false}
              value={query}
              onChange={(e) => setQueryText(e.target.value)}
              data-testid="store-search"
            />
          </div>
          <div>
            <label htmlFor="store-sort" className="block text-xs font-medium text-slate-700">
              Sort
            </label>
            <select
              id="store-sort"
              className="field mt-0.5 h-9 w-full sm:w-36"
              value={sort}
              onChange={(e) => setSort(e.target.value)}
              data-testid="store-sort"
            >
              {Object.entries(SORTS).map(([k, [label]]) => (
                <option key={k} value={k}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          {admin ? (
            <div>
              <label htmlFor="owner-filter" className="block text-xs font-medium text-slate-700">
                Owner
              </label>
              <select
                id="owner-filter"
                className="field mt-0.5 h-9 w-full sm:w-40"
                value={owner}
                onChange={(e) => setQuery({ owner: e.target.value, offset: 0 })}
                data-testid="owner-filter"
              >
                <option value="">All accounts</option>
                {(owners.includes(owner) || !owner ? owners : [owner, ...owners]).map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </div>
          ) : null}
          <div>
            <label htmlFor="status-filter" className="block text-xs font-medium text-slate-700">
              Status
            </label>
            <select
              id="status-filter"
              className="field mt-0.5 h-9 w-full sm:w-44"
              value={statusChoice}
              onChange={(e) => chooseStatus(e.target.value)}
              onBlur={() => {
                if (statusChoice !== filter) {
                  clearTimeout(statusTimer.current);
                  setQuery({ status: statusChoice, offset: 0 });
                }
              }}
              data-testid="status-filter"
            >
              <option value="">All active</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {STATUS_LABEL[s]}
                </option>
              ))}
            </select>
          </div>
        </div>
      </div>

      {/* The shell's banner already says when the daemon is unreachable. */}
      {error && !(error instanceof NetworkError && loaded && state.items.length) ? (
        <div className="flex flex-wrap items-start gap-3 px-4 py-3 sm:px-5">
          <ErrorNotice error={error} className="flex-1" />
          <button type="button" className="btn-secondary" onClick={load}>
            Try again
          </button>
        </div>
      ) : null}

      <div
        aria-hidden="true"
        className={`${loaded && items.length === 0 ? 'hidden' : 'hidden md:grid'} ${cols.head} gap-4 border-b border-slate-100 px-5 py-2 text-xs font-medium tracking-wide text-slate-500 uppercase`}
      >
        <span>Name</span>
        {admin ? <span>Owner</span> : null}
        <span>Status</span>
        <span>URL</span>
        <span>Created</span>
        <span>Last change</span>
      </div>

      {!loaded ? (
        <ul aria-busy="true" aria-label="Loading stores" className="divide-y divide-slate-100">
          {[0, 1, 2].map((i) => (
            <li key={i} className="h-[7.5rem] px-5 py-4 md:h-[4.25rem]">
              <div className="h-4 w-1/3 animate-pulse rounded bg-slate-100" />
              <div className="mt-3 h-3 w-1/2 animate-pulse rounded bg-slate-100" />
            </li>
          ))}
        </ul>
      ) : searching && items.length === 0 && state.items.length > 0 ? (
        <div className="px-5 py-10 text-center" data-testid="empty-search">
          <p className="text-sm text-slate-700">
            No store {onePage ? '' : 'on this page '}matches “{query.trim()}”.
          </p>
          <button type="button" className="btn-secondary mt-3" onClick={() => setQueryText('')}>
            Clear the search
          </button>
        </div>
      ) : items.length === 0 && !error ? (
        <EmptyState filter={filter} onShowAll={() => setQuery({ status: '', offset: 0 })} />
      ) : (
        <ul className="divide-y divide-slate-100" data-testid="store-list">
          {items.map((s) => (
            <StoreRow key={s.id} store={s} now={now} admin={admin} cols={cols.row} />
          ))}
        </ul>
      )}

      {loaded && total > PAGE_SIZE ? (
        <nav
          aria-label="Pages"
          className="flex items-center justify-between border-t border-slate-200 px-4 py-3 text-sm sm:px-5"
        >
          <span className="text-slate-600">
            {offset + 1}–{Math.min(offset + PAGE_SIZE, total)} of {total}
          </span>
          <span className="flex gap-2">
            <button
              type="button"
              className="btn-secondary"
              disabled={offset === 0}
              onClick={() => setQuery({ offset: Math.max(0, offset - PAGE_SIZE) })}
            >
              Previous
            </button>
            <button
              type="button"
              className="btn-secondary"
              disabled={offset + PAGE_SIZE >= total}
              onClick={() => setQuery({ offset: offset + PAGE_SIZE })}
            >
              Next
            </button>
          </span>
        </nav>
      ) : null}
    </section>
  );
}

function StoreRow({ store: s, now, admin, cols }) {
  const busy = BUSY.has(s.status);
  return (
    <li
      data-testid={`store-row-${s.name}`}
      data-status={s.status}
      className={`grid grid-cols-[minmax(0,1fr)_auto] gap-x-4 gap-y-1 px-4 py-3 sm:px-5 ${cols} md:items-start md:gap-y-0`}
    >
      <div className="min-w-0">
        <Link
          to={`/stores/${encodeURIComponent(s.id)}`}
          className="link block truncate font-medium"
          data-testid={`store-link-${s.name}`}
        >
          {s.name}
        </Link>
        <p className="text-xs break-words text-slate-600">
          <span className="sr-only">Engine: </span>
          {s.engine === 'woocommerce' ? 'WooCommerce' : s.engine}
          {s.owner ? <span className={`text-slate-500 ${admin ? 'md:hidden' : ''}`}> · {s.owner}</span> : null}
        </p>
      </div>

      {admin ? (
        <div
          className="hidden min-w-0 text-sm break-words text-slate-700 md:block md:pt-0.5"
          data-testid={`store-owner-${s.name}`}
        >
          <span className="sr-only">Owner: </span>
          {s.owner ?? '—'}
        </div>
      ) : null}

      <div className="row-span-1 min-w-0 justify-self-end md:justify-self-stretch">
        <span className="sr-only">Status: </span>
        <StatusBadge status={s.status} name={s.name} />
        <div className="mt-1.5 hidden h-7 md:block">
          <RowDetail store={s} busy={busy} />
        </div>
      </div>

      {hasDetail(s, busy) ? (
        <div className="col-span-2 h-7 md:hidden" data-testid={`store-detail-line-${s.name}`}>
          <RowDetail store={s} busy={busy} />
        </div>
      ) : null}

      <div className="col-span-2 min-w-0 text-sm md:col-span-1 md:pt-0.5">
        <span className="sr-only">URL: </span>
        {s.url && s.status === 'DELETED' ? (
          <span className="block truncate text-slate-500">{s.url.replace(/^https?:\/\//, '')}</span>
        ) : s.url ? (
          <a
            href={s.url}
            target="_blank"
            rel="noopener noreferrer"
            className={`link block truncate ${s.status === 'READY' ? '' : 'text-slate-500'}`}
            data-testid={`store-url-${s.name}`}
          >
            {s.url.replace(/^https?:\/\//, '')}
          </a>
        ) : (
          <span className="text-slate-500">not yet</span>
        )}
      </div>

      <div className="text-xs text-slate-600 md:pt-1 md:text-sm">
        <span className="md:sr-only">Created </span>
        <Time iso={s.created_at} now={now} />
      </div>
      <div className="text-right text-xs text-slate-600 md:pt-1 md:text-left md:text-sm">
        <span className="md:sr-only">Changed </span>
        <Time iso={s.updated_at} now={now} />
      </div>
    </li>
  );
}

const hasDetail = (s, busy) => busy || (s.status === 'FAILED' && !!s.status_reason);

function RowDetail({ store: s, busy }) {
  if (busy) return <Progress compact step={s.step} progress={s.progress} label={`${s.name} progress`} />;
  if (s.status === 'FAILED' && s.status_reason)
    return (
      <p className="truncate text-xs text-red-800" title={s.status_reason}>
        {s.status_reason}
      </p>
    );
  return null;
}

function EmptyState({ filter, onShowAll }) {
  if (filter) {
    return (
      <div className="px-5 py-10 text-center" data-testid="empty-state">
        <p className="text-sm text-slate-700">No stores are {STATUS_LABEL[filter].toLowerCase()}.</p>
        <button type="button" className="btn-secondary mt-3" onClick={onShowAll}>
          Show all stores
        </button>
      </div>
    );
  }
  return (
    <div className="px-5 py-10 text-center" data-testid="empty-state">
      <p className="font-medium text-slate-900">No stores yet</p>
      <p className="mx-auto mt-1 max-w-md text-sm text-slate-600">
        Type a name such as <kbd className="rounded bg-slate-100 px-1 font-mono">shop1</kbd> in{' '}
        <strong>Create a store</strong> above and press <strong>Create store</strong>. The store appears here, shows
        each step while the cluster sets it up (about a minute), and gets a link once it is ready.
      </p>
    </div>
  );
}
