// SPDX-License-Identifier: Apache-2.0
// The platform audit log: who did what to which store, with what result. Refused
// requests (result denied) and failed sign-ins (auth.failed) stand out.
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { audit as auditApi } from '../lib/api.js';
import { formatDateTime } from '../lib/format.js';
import ErrorNotice from './ErrorNotice.jsx';
import PageHeading from './PageHeading.jsx';

const PAGE = 50;
const EMPTY = { actor: '', action: '', store: '', result: '', since: '', until: '' };

export const isSecurityEvent = (e) => String(e.result).toLowerCase() === 'denied' || e.action === 'auth.failed';

/** datetime-local ("2026-11-27T20:00") in local time → ISO 8601 UTC for the API. */
function toIso(local) {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

function apiFilter(f) {
  return { ...f, since: toIso(f.since), until: toIso(f.until) };
}

export default function AuditPage() {
  const id = useId();
  const [draft, setDraft] = useState(EMPTY);
  const [filter, setFilter] = useState(EMPTY);
  const [items, setItems] = useState(null);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const request = useRef(0);

  const load = useCallback(async (f) => {
    const n = ++request.current;
    setItems(null);
    setNext(null);
    try {
      const r = await auditApi.list(apiFilter(f), { limit: PAGE });
      if (n !== request.current) return;
      setItems(r?.items ?? []);
      setNext(r?.next ?? null);
      setError(null);
    } catch (err) {
      if (n !== request.current) return;
      setItems([]);
      setError(err);
    }
  }, []);

  useEffect(() => {
    load(filter);
  }, [filter, load]);

  async function more() {
    const n = request.current;
    setLoadingMore(true);
    try {
      const r = await auditApi.list(apiFilter(filter), { before: next, limit: PAGE });
      if (n !== request.current) return;
      setItems((old) => [...(old ?? []), ...(r?.items ?? [])]);
      setNext(r?.next ?? null);
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setLoadingMore(false);
    }
  }

  const set = (k) => (e) => setDraft((d) => ({ ...d, [k]: e.target.value }));
  const field = (k, label, props = {}) => (
    <div>
      <label htmlFor={`${id}-${k}`} className="block text-xs font-medium text-slate-700">
        {label}
      </label>
      <input
        id={`${id}-${k}`}
        className="field mt-0.5 h-9"
        autoComplete="off"
        spellCheck={false}
        value={draft[k]}
        onChange={set(k)}
        data-testid={`audit-${k}`}
        {...props}
      />
    </div>
  );
  const security = items?.filter(isSecurityEvent).length ?? 0;

  return (
    <div className="space-y-4" data-testid="audit-page">
      <div>
        <PageHeading title="Audit log" />
        <p className="mt-1 text-sm text-slate-600">
          Every store operation, credential read and sign-in, done or refused. Refused and failed sign-ins are
          highlighted.
        </p>
      </div>

      <section className="card p-4 sm:p-5" aria-labelledby={`${id}-filters`}>
        <h2 id={`${id}-filters`} className="text-base font-semibold text-slate-900">
          Filters
        </h2>
        <form
          className="mt-3 grid grid-cols-1 gap-3 sm:grid-cols-3 lg:grid-cols-6"
          onSubmit={(e) => {
            e.preventDefault();
            setFilter({ ...draft });
          }}
        >
          {field('actor', 'Actor', { placeholder: 'alice' })}
          {field('action', 'Action', { placeholder: 'store. or auth.failed' })}
          {field('store', 'Store ID')}
          <div>
            <label htmlFor={`${id}-result`} className="block text-xs font-medium text-slate-700">
              Result
            </label>
            <select
              id={`${id}-result`}
              className="field mt-0.5 h-9"
              value={draft.result}
              onChange={set('result')}
              data-testid="audit-result"
            >
              <option value="">Any</option>
              <option value="ok">ok</option>
              <option value="denied">denied</option>
              <option value="failed">failed</option>
            </select>
          </div>
          {field('since', 'From', { type: 'datetime-local' })}
          {field('until', 'Until', { type: 'datetime-local' })}
          <div className="flex flex-wrap gap-2 sm:col-span-3 lg:col-span-6">
            <button type="submit" className="btn-primary" data-testid="audit-apply">
              Apply filters
            </button>
            <button
              type="button"
              className="btn-secondary"
              onClick={() => {
                setDraft(EMPTY);
                setFilter(EMPTY);
              }}
            >
              Clear
            </button>
            <a
              className="btn-secondary ml-auto"
              href={auditApi.exportUrl(apiFilter(filter))}
              download="storeagent-audit.jsonl"
              data-testid="audit-export"
            >
              Export as JSON lines
            </a>
          </div>
        </form>
      </section>

      <section className="card" aria-labelledby={`${id}-entries`}>
        <div className="border-b border-slate-200 px-4 py-3 sm:px-5">
          <h2 id={`${id}-entries`} className="text-base font-semibold text-slate-900">
            Entries
          </h2>
          <p className="text-sm text-slate-600" aria-live="polite" data-testid="audit-count">
            {items
              ? `${items.length}${next ? '+' : ''} ${items.length === 1 ? 'entry' : 'entries'}${security ? `, ${security} security ${security === 1 ? 'event' : 'events'}` : ''}`
              : 'Loading…'}
          </p>
        </div>
        <ErrorNotice error={error} testId="audit-error" className={error ? 'm-4' : ''} />
        {items?.length ? (
          <div className="overflow-x-auto" tabIndex={0} role="region" aria-label="Audit entries table">
            <table className="w-full text-left text-sm" data-testid="audit-table">
              <thead className="text-xs text-slate-500 uppercase">
                <tr>
                  <th scope="col" className="px-4 py-2 font-medium sm:pl-5">
                    Time
                  </th>
                  <th scope="col" className="px-2 py-2 font-medium">
                    Actor
                  </th>
                  <th scope="col" className="px-2 py-2 font-medium">
                    Action
                  </th>
                  <th scope="col" className="px-2 py-2 font-medium">
                    Target
                  </th>
                  <th scope="col" className="px-2 py-2 font-medium">
                    Result
                  </th>
                  <th scope="col" className="px-2 py-2 font-medium sm:pr-5">
                    Source
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {items.map((e) => {
                  const sec = isSecurityEvent(e);
                  return (
                    <tr
                      key={e.id}
                      data-testid="audit-row"
                      data-action={e.action}
                      data-result={e.result}
                      data-security={sec ? 'true' : 'false'}
                      className={sec ? 'bg-red-50 text-red-950' : ''}
                    >
                      <td className={`px-4 py-2 whitespace-nowrap sm:pl-5 ${sec ? 'border-l-4 border-red-600' : ''}`}>
                        <time dateTime={e.time}>{formatDateTime(e.time)}</time>
                      </td>
                      <td className="px-2 py-2">
                        {e.actor}
                        {e.token ? <span className="block text-xs text-slate-600">token {e.token}</span> : null}
                      </td>
                      <td className="px-2 py-2 font-mono text-xs">{e.action}</td>
                      <td className="px-2 py-2 text-xs break-all">
                        {e.target_kind ? `${e.target_kind} ` : ''}
                        {e.target ?? ''}
                        {e.store_id && e.store_id !== e.target ? (
                          <span className="block text-slate-600">store {e.store_id}</span>
                        ) : null}
                      </td>
                      <td className="px-2 py-2 whitespace-nowrap">
                        {sec ? (
                          <span className="rounded bg-red-700 px-1.5 py-0.5 text-xs font-medium text-white">
                            Security: {e.result}
                          </span>
                        ) : (
                          <span className={String(e.result).toLowerCase() === 'failed' ? 'text-red-800' : ''}>
                            {e.result}
                          </span>
                        )}
                        {e.error ? <span className="block font-mono text-xs">{e.error}</span> : null}
                      </td>
                      <td className="px-2 py-2 text-xs sm:pr-5">
                        {e.source}
                        {e.request_id ? <span className="block text-slate-500">{e.request_id}</span> : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : items ? (
          <p className="px-5 py-4 text-sm text-slate-600" data-testid="audit-empty">
            No entries match these filters.
          </p>
        ) : (
          <p className="px-5 py-4 text-sm text-slate-500">Loading entries…</p>
        )}
        {next ? (
          <div className="border-t border-slate-200 px-4 py-3 sm:px-5">
            <button
              type="button"
              className="btn-secondary"
              onClick={more}
              disabled={loadingMore}
              data-testid="audit-more"
            >
              {loadingMore ? 'Loading…' : 'Show older entries'}
            </button>
          </div>
        ) : null}
      </section>
    </div>
  );
}
