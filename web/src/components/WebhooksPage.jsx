// SPDX-License-Identifier: Apache-2.0
// The signed-in account's webhooks: create (the signing secret shown once), send a test
// event, read the delivery log, delete with confirmation.
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { announce } from '../lib/announce.js';
import { webhooks as api } from '../lib/api.js';
import { isAdmin, useSession } from '../lib/session.js';
import CopyButton from './CopyButton.jsx';
import ErrorNotice from './ErrorNotice.jsx';
import PageHeading from './PageHeading.jsx';
import Time from './Time.jsx';

const EVENTS = ['store.ready', 'store.failed', 'store.deleted', 'backup.succeeded', 'backup.failed'];
const STATE_COLOR = {
  delivered: 'text-emerald-800',
  failed: 'text-red-800',
  queued: 'text-amber-800',
  sending: 'text-slate-700',
};

export default function WebhooksPage() {
  const id = useId();
  const [items, setItems] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState(EVENTS);
  const [allStores, setAllStores] = useState(false);
  const admin = isAdmin(useSession());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [created, setCreated] = useState(null);
  const urlRef = useRef(null);

  const load = useCallback(async () => {
    try {
      setItems((await api.list())?.items ?? []);
      setLoadError(null);
    } catch (err) {
      setLoadError(err);
    }
  }, []);

  useEffect(() => {
    load();
  }, [load]);

  async function create(e) {
    e.preventDefault();
    if (!url.trim()) {
      urlRef.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    setCreated(null);
    try {
      const r = await api.create({ url: url.trim(), events, ...(allStores ? { all_stores: true } : {}) });
      setCreated(r);
      setUrl('');
      announce('Webhook created. Copy its secret now: you will not see it again.');
      load();
    } catch (err) {
      setError(err);
      urlRef.current?.focus();
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="space-y-4" data-testid="webhooks-page">
      <div>
        <PageHeading title="Webhooks" />
        <p className="mt-1 text-sm text-slate-600">
          URLs that hear of your stores&apos; events, each request signed with the webhook&apos;s secret
          (X-Storeagent-Signature: sha256=HMAC of the body). Failed deliveries are tried again.
        </p>
      </div>

      <section className="card p-4 sm:p-5" aria-labelledby={`${id}-new`}>
        <h2 id={`${id}-new`} className="text-base font-semibold text-slate-900">
          New webhook
        </h2>
        <form onSubmit={create} noValidate className="mt-3 space-y-3">
          <div>
            <label htmlFor={`${id}-url`} className="block text-sm font-medium text-slate-800">
              URL
            </label>
            <input
              ref={urlRef}
              id={`${id}-url`}
              type="url"
              className="field mt-1"
              autoComplete="off"
              spellCheck={false}
              placeholder="https://hooks.example.com/storeagent"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              data-testid="webhook-url"
            />
          </div>
          <fieldset>
            <legend className="text-sm font-medium text-slate-800">Events</legend>
            <div className="mt-1 flex flex-wrap gap-x-4 gap-y-1">
              {EVENTS.map((ev) => (
                <label key={ev} className="inline-flex items-center gap-1.5 text-sm text-slate-700">
                  <input
                    type="checkbox"
                    checked={events.includes(ev)}
                    onChange={(e) =>
                      setEvents((cur) => (e.target.checked ? [...cur, ev] : cur.filter((x) => x !== ev)))
                    }
                  />
                  {ev}
                </label>
              ))}
            </div>
          </fieldset>
          {admin ? (
            <label className="flex items-center gap-1.5 text-sm text-slate-700">
              <input
                type="checkbox"
                checked={allStores}
                onChange={(e) => setAllStores(e.target.checked)}
                data-testid="webhook-all-stores"
              />
              Every store&apos;s events, not only this account&apos;s
            </label>
          ) : null}
          <button
            type="submit"
            className="btn-primary"
            disabled={busy || events.length === 0}
            data-testid="webhook-create"
          >
            {busy ? 'Working…' : 'Create webhook'}
          </button>
        </form>
        <ErrorNotice error={error} testId="webhook-error" className="mt-3" />
        {created ? <SecretShown hook={created} onDone={() => setCreated(null)} /> : null}
      </section>

      <section className="card" aria-labelledby={`${id}-list`}>
        <div className="border-b border-slate-200 px-4 py-3 sm:px-5">
          <h2 id={`${id}-list`} className="text-base font-semibold text-slate-900">
            Your webhooks
          </h2>
        </div>
        {loadError ? <ErrorNotice error={loadError} className="m-4" /> : null}
        {!items ? (
          <p className="px-5 py-4 text-sm text-slate-500">{loadError ? '' : 'Loading webhooks…'}</p>
        ) : items.length === 0 ? (
          <p className="px-5 py-4 text-sm text-slate-600">No webhooks yet.</p>
        ) : (
          <ul className="divide-y divide-slate-100">
            {items.map((h) => (
              <Webhook key={h.id} hook={h} onChanged={load} />
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function SecretShown({ hook, onDone }) {
  const ref = useRef(null);
  useEffect(() => {
    ref.current?.focus();
  }, [hook]);
  return (
    <div
      ref={ref}
      tabIndex={-1}
      role="region"
      aria-label="New webhook secret"
      className="mt-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950 focus:outline-none"
      data-testid="webhook-secret-once"
    >
      <p className="font-medium">The webhook was created. Copy its signing secret now: you will not see it again.</p>
      <div className="mt-2 flex items-center gap-2">
        <code
          className="min-w-0 flex-1 rounded border border-amber-200 bg-white px-2 py-1.5 font-mono text-xs break-all text-slate-900"
          data-testid="webhook-secret"
        >
          {hook.secret}
        </code>
        <CopyButton text={hook.secret} label="Secret" testId="webhook-secret-copy" />
      </div>
      <button type="button" className="btn-secondary mt-2 h-8 text-xs" onClick={onDone}>
        I have copied it
      </button>
    </div>
  );
}

function Webhook({ hook, onChanged }) {
  const [log, setLog] = useState(null);
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [confirming, setConfirming] = useState(false);

  const loadLog = useCallback(async () => {
    try {
      setLog((await api.deliveries(hook.id))?.items ?? []);
    } catch (err) {
      setError(err);
    }
  }, [hook.id]);

  // While the log is open and something is still on its way, look again every few seconds.
  useEffect(() => {
    if (!open) return undefined;
    loadLog();
    const t = setInterval(loadLog, 3000);
    return () => clearInterval(t);
  }, [open, loadLog]);

  async function act(fn, done) {
    setBusy(true);
    setError(null);
    try {
      await fn();
      done?.();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <li className="px-4 py-3 sm:px-5" data-testid={`webhook-${hook.id}`}>
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          <p className="font-mono text-sm break-all text-slate-900">{hook.url}</p>
          <p className="mt-0.5 text-xs text-slate-600">
            {hook.events.join(', ')}
            {hook.all_stores ? ' · every store' : ''}
            {hook.enabled ? '' : ' · paused'}
          </p>
        </div>
        <div className="flex flex-wrap gap-2">
          <button
            type="button"
            className="btn-secondary h-8 text-xs"
            disabled={busy}
            onClick={() =>
              act(
                () => api.test(hook.id),
                () => {
                  announce('Test event queued.');
                  setOpen(true);
                  loadLog();
                },
              )
            }
            data-testid={`webhook-test-${hook.id}`}
          >
            Send test event
          </button>
          <button
            type="button"
            className="btn-secondary h-8 text-xs"
            disabled={busy}
            onClick={() => act(() => api.setEnabled(hook.id, !hook.enabled), onChanged)}
            data-testid={`webhook-pause-${hook.id}`}
          >
            {hook.enabled ? 'Pause' : 'Resume'}
          </button>
          <button
            type="button"
            className="btn-secondary h-8 text-xs"
            aria-expanded={open}
            onClick={() => setOpen((o) => !o)}
            data-testid={`webhook-log-toggle-${hook.id}`}
          >
            {open ? 'Hide deliveries' : 'Deliveries'}
          </button>
          {confirming ? (
            <span role="group" aria-label="Delete this webhook?" className="inline-flex gap-2">
              <button
                type="button"
                className="btn-danger h-8 text-xs"
                disabled={busy}
                onClick={() => act(() => api.remove(hook.id), onChanged)}
                data-testid={`webhook-delete-confirm-${hook.id}`}
              >
                Delete webhook
              </button>
              <button type="button" className="btn-secondary h-8 text-xs" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </span>
          ) : (
            <button
              type="button"
              className="btn-secondary h-8 text-xs"
              onClick={() => setConfirming(true)}
              data-testid={`webhook-delete-${hook.id}`}
            >
              Delete…
            </button>
          )}
        </div>
      </div>
      <ErrorNotice error={error} className="mt-2" />
      {open ? <DeliveryLog log={log} /> : null}
    </li>
  );
}

function DeliveryLog({ log }) {
  if (!log) return <p className="mt-2 text-sm text-slate-500">Loading deliveries…</p>;
  if (log.length === 0) return <p className="mt-2 text-sm text-slate-600">No deliveries yet.</p>;
  return (
    <div className="mt-2 overflow-x-auto" tabIndex={0} role="region" aria-label="Deliveries table">
      <table className="w-full text-left text-sm" data-testid="webhook-deliveries">
        <thead className="text-xs text-slate-500 uppercase">
          <tr>
            <th scope="col" className="py-1 pr-2 font-medium">
              Event
            </th>
            <th scope="col" className="px-2 py-1 font-medium">
              State
            </th>
            <th scope="col" className="px-2 py-1 font-medium">
              Attempts
            </th>
            <th scope="col" className="px-2 py-1 font-medium">
              Response
            </th>
            <th scope="col" className="px-2 py-1 font-medium">
              When
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {log.map((d) => (
            <tr key={d.id} data-testid={`delivery-${d.id}`} data-state={d.state}>
              <td className="py-1 pr-2 whitespace-nowrap">{d.event}</td>
              <td className={`px-2 py-1 ${STATE_COLOR[d.state] ?? ''}`}>
                {d.state}
                {d.last_error ? <span className="block text-xs text-slate-600">{d.last_error}</span> : null}
              </td>
              <td className="px-2 py-1">{d.attempts}</td>
              <td className="px-2 py-1">{d.response_code ?? '–'}</td>
              <td className="px-2 py-1 whitespace-nowrap">
                <Time iso={d.updated_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
