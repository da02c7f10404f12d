// SPDX-License-Identifier: Apache-2.0
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { ApiError, charts as chartsApi, stores as storesApi } from '../lib/api.js';
import { announce } from '../lib/announce.js';
import { formatDateTime, formatStamp } from '../lib/format.js';
import { useBus, useNow } from '../lib/hooks.js';
import { Link, hasNavigated, navigate } from '../lib/router.js';
import { isAdmin, useSession } from '../lib/session.js';
import { BUSY, STATUS_LABEL, isStale } from '../lib/status.js';
import BackupsPanel from './BackupsPanel.jsx';
import ErrorNotice from './ErrorNotice.jsx';
import LogsPanel from './LogsPanel.jsx';
import Progress from './Progress.jsx';
import StatusBadge from './StatusBadge.jsx';
import StoreAdminCard from './StoreAdminCard.jsx';
import StoreDomains from './StoreDomains.jsx';
import StoreSettingsForm from './StoreSettingsForm.jsx';
import Time from './Time.jsx';
import TransferCard from './TransferCard.jsx';
import UsagePanel from './UsagePanel.jsx';

const newer = isStale;

function compareVersions(a, b) {
  const pa = String(a).split(/[.-]/);
  const pb = String(b).split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const c = !Number.isNaN(nx) && !Number.isNaN(ny) && x !== '' && y !== '' ? nx - ny : x.localeCompare(y);
    if (c) return c;
  }
  return 0;
}

export default function StoreDetail({ id }) {
  const [store, setStore] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [events, setEvents] = useState(null);
  const [releases, setReleases] = useState(null);
  const [chartVersions, setChartVersions] = useState([]);
  const headingRef = useRef(null);
  const storeRef = useRef(null);
  storeRef.current = store;
  const eventsTimer = useRef(null);
  const now = useNow();
  const admin = isAdmin(useSession());

  const loadStore = useCallback(async () => {
    try {
      const s = await storesApi.get(id);
      setStore((old) => (newer(old, s) ? old : s));
      setLoadError(null);
    } catch (err) {
      setLoadError(err);
    }
  }, [id]);

  const loadEvents = useCallback(async () => {
    try {
      const page = await storesApi.events(id);
      setEvents({ items: page?.items ?? [], error: null });
    } catch (err) {
      setEvents((old) => ({ items: old?.items ?? [], error: err }));
    }
  }, [id]);

  const loadReleases = useCallback(async () => {
    try {
      const page = await storesApi.releases(id);
      setReleases({ items: page?.items ?? [], error: null });
    } catch (err) {
      setReleases((old) => ({ items: old?.items ?? [], error: err }));
    }
  }, [id]);

  const loadAll = useCallback(() => {
    loadStore();
    loadEvents();
    loadReleases();
  }, [loadStore, loadEvents, loadReleases]);

  useEffect(() => {
    setStore(null);
    setEvents(null);
    setReleases(null);
    loadAll();
    return () => clearTimeout(eventsTimer.current);
  }, [loadAll]);

  useEffect(() => {
    chartsApi
      .list()
      .then((r) =>
        setChartVersions(
          (r?.items ?? [])
            .map((c) => c.version)
            .sort(compareVersions)
            .reverse(),
        ),
      )
      .catch(() => setChartVersions([]));
  }, []);

  useEffect(() => {
    if (store) document.title = `${store.name} · storeagent`;
    if (store && hasNavigated()) headingRef.current?.focus();
    // Only when the page first shows a store, not on every update.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [store?.id]);

  useBus('refresh', loadAll);
  useBus('store', (s) => {
    if (s.id !== id) return;
    const old = storeRef.current;
    if (old && newer(old, s)) return;
    if (old && old.status !== s.status) {
      announce(`Store ${s.name} is now ${STATUS_LABEL[s.status] ?? s.status}.`);
    }
    setStore(s);
    // A change of state or step is also a new line in the timeline.
    clearTimeout(eventsTimer.current);
    eventsTimer.current = setTimeout(loadEvents, 500);
    if (!old || old.helm_revision !== s.helm_revision || old.status !== s.status) loadReleases();
  });

  function applied(s) {
    if (s && typeof s === 'object' && s.id === id) setStore((old) => (newer(old, s) ? old : s));
    clearTimeout(eventsTimer.current);
    eventsTimer.current = setTimeout(loadEvents, 500);
  }

  // Another account's store answers 404 exactly like a missing one, so this page
  // cannot tell them apart either: both read "Store not found".
  if (loadError && !store) {
    const notFound = loadError instanceof ApiError && loadError.status === 404;
    return (
      <div className="space-y-4">
        <BackLink />
        <div className="card p-6">
          <h1 className="text-lg font-semibold text-slate-900">
            {notFound ? 'Store not found' : 'Could not load the store'}
          </h1>
          <ErrorNotice error={loadError} className="mt-3" />
          {!notFound ? (
            <button type="button" className="btn-secondary mt-3" onClick={loadAll}>
              Try again
            </button>
          ) : null}
        </div>
      </div>
    );
  }

  if (!store) {
    return (
      <div className="space-y-4" aria-busy="true">
        <BackLink />
        <div className="card h-40 animate-pulse p-6" />
        <p className="sr-only">Loading store…</p>
      </div>
    );
  }

  const busy = BUSY.has(store.status);

  return (
    <div className="space-y-4" data-testid="store-detail" data-status={store.status}>
      <BackLink />

      <section className="card p-4 sm:p-5" aria-labelledby="store-title">
        <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
          <h1
            id="store-title"
            ref={headingRef}
            tabIndex={-1}
            className="min-w-0 truncate text-xl font-semibold text-slate-900 focus:outline-none"
          >
            {store.name}
          </h1>
          <StatusBadge status={store.status} name={store.name} />
        </div>
        <p className="mt-1 text-sm text-slate-600">
          {store.engine === 'woocommerce' ? 'WooCommerce' : store.engine} · owned by {store.owner ?? '—'} · ID{' '}
          <code className="font-mono text-xs">{store.id}</code>
        </p>
        <p className="mt-2 text-sm">
          {store.url && store.status === 'DELETED' ? (
            <span className="break-all text-slate-500" data-testid="detail-url-gone">
              {store.url} <span className="text-slate-600">(no longer served)</span>
            </span>
          ) : store.url ? (
            <a
              href={store.url}
              target="_blank"
              rel="noopener noreferrer"
              className="link break-all"
              data-testid="detail-url"
            >
              {store.url}
            </a>
          ) : (
            <span className="text-slate-500">No URL yet.</span>
          )}
        </p>

        <div className="mt-3 min-h-10">
          {busy ? (
            <Progress step={store.step} progress={store.progress} label={`${STATUS_LABEL[store.status]} progress`} />
          ) : store.status === 'FAILED' ? (
            <div
              className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-900"
              data-testid="failure-reason"
            >
              <p className="font-medium">Why it failed</p>
              <p className="mt-0.5 break-words whitespace-pre-wrap">
                {store.status_reason || 'The daemon gave no reason.'}
              </p>
            </div>
          ) : store.status === 'DELETED' ? (
            <p className="text-sm text-slate-700">
              This store was deleted {store.deleted_at ? `on ${formatDateTime(store.deleted_at)}` : ''}. Nothing of it
              is left on the cluster.
            </p>
          ) : (
            <p className="text-sm text-slate-700">
              {store.status_reason ||
                (store.chart_version
                  ? `Running chart ${store.chart_version}${store.helm_revision ? `, Helm revision ${store.helm_revision}` : ''}.`
                  : '')}
            </p>
          )}
        </div>
      </section>

      {/* The side column (actions, settings) comes first in the document: on a phone it follows the
          status at once instead of after the timeline and the history; a wide screen puts it right. */}
      <div className="grid grid-cols-[minmax(0,1fr)] gap-4 lg:grid-cols-[minmax(0,2fr)_minmax(0,1fr)]">
        <div className="min-w-0 space-y-4 lg:col-start-2 lg:row-start-1" data-testid="store-side">
          {store.status !== 'DELETED' ? <StoreAdminCard store={store} onApplied={applied} /> : null}
          {store.status !== 'DELETED' ? (
            <Actions
              store={store}
              busy={busy}
              chartVersions={chartVersions}
              releases={releases?.items ?? []}
              onApplied={applied}
            />
          ) : null}
          {store.status !== 'DELETED' ? <StoreSettingsForm store={store} busy={busy} onApplied={applied} /> : null}
          {store.status !== 'DELETED' ? <StoreDomains store={store} busy={busy} onApplied={applied} /> : null}
          {admin && store.status !== 'DELETED' ? (
            <TransferCard
              store={store}
              onTransferred={(s) => {
                if (s?.id === id) setStore(s);
                clearTimeout(eventsTimer.current);
                eventsTimer.current = setTimeout(loadEvents, 500);
              }}
            />
          ) : null}
          <section className="card p-4 sm:p-5" aria-labelledby="facts-title">
            <h2 id="facts-title" className="text-base font-semibold text-slate-900">
              Details
            </h2>
            <dl className="mt-3 grid grid-cols-[auto_minmax(0,1fr)] gap-x-4 gap-y-2 text-sm">
              <dt className="text-slate-600">Created</dt>
              <dd className="text-slate-900">
                <Time iso={store.created_at} relative={false} />
              </dd>
              <dt className="text-slate-600">Last change</dt>
              <dd className="text-slate-900">
                <Time iso={store.updated_at} now={now} />
              </dd>
              <dt className="text-slate-600">Chart version</dt>
              <dd className="text-slate-900">{store.chart_version ?? '—'}</dd>
              <dt className="text-slate-600">Helm revision</dt>
              <dd className="text-slate-900">{store.helm_revision ?? '—'}</dd>
              {store.deleted_at ? (
                <>
                  <dt className="text-slate-600">Deleted</dt>
                  <dd className="text-slate-900">
                    <Time iso={store.deleted_at} relative={false} />
                  </dd>
                </>
              ) : null}
            </dl>
          </section>
        </div>
        <div className="min-w-0 space-y-4 lg:col-start-1 lg:row-start-1">
          <Timeline events={events} />
          <Releases releases={releases} current={store.helm_revision} deleted={store.status === 'DELETED'} />
          {store.status !== 'DELETED' ? <UsagePanel store={store} /> : null}
          {store.status !== 'DELETED' ? <LogsPanel store={store} /> : null}
          <BackupsPanel store={store} />
        </div>
      </div>
    </div>
  );
}

function BackLink() {
  return (
    <Link to="/" className="link inline-flex items-center gap-1 text-sm">
      <span aria-hidden="true">←</span> All stores
    </Link>
  );
}

const ACTOR_STYLE = {
  system: 'bg-slate-100 text-slate-700',
  cluster: 'bg-sky-50 text-sky-800',
};

function Timeline({ events }) {
  // Newest first: the box opens at its top, on the latest line, and a new line appears there.
  const items = [...(events?.items ?? [])].reverse();

  return (
    <section className="card" aria-labelledby="timeline-title">
      <div className="flex items-baseline justify-between border-b border-slate-200 px-4 py-3 sm:px-5">
        <h2 id="timeline-title" className="text-base font-semibold text-slate-900">
          Timeline
        </h2>
        <span className="text-xs text-slate-500">newest first</span>
      </div>
      {events?.error ? <ErrorNotice error={events.error} className="m-4" /> : null}
      <div
        tabIndex={0}
        role="region"
        aria-label="Event timeline"
        className="max-h-80 overflow-y-auto px-4 py-3 sm:px-5"
      >
        {!events ? (
          <p className="text-sm text-slate-500">Loading events…</p>
        ) : items.length === 0 ? (
          <p className="text-sm text-slate-500">No events yet.</p>
        ) : (
          <ol className="space-y-3" data-testid="timeline">
            {items.map((ev) => {
              const bad = /fail|error/i.test(ev.action) || /^Warning\b/.test(ev.detail ?? '');
              return (
                <li
                  key={ev.id}
                  className="grid grid-cols-[minmax(0,1fr)] gap-x-3 text-sm sm:grid-cols-[auto_minmax(0,1fr)]"
                  data-testid="timeline-item"
                  data-action={ev.action}
                >
                  <time
                    dateTime={ev.time}
                    title={formatDateTime(ev.time)}
                    className="pt-0.5 text-xs whitespace-nowrap text-slate-500 tabular-nums"
                    data-testid="timeline-time"
                  >
                    {formatStamp(ev.time)}
                  </time>
                  <div className="min-w-0">
                    <p className="flex flex-wrap items-center gap-1.5">
                      <span
                        className={`rounded px-1.5 py-0.5 text-xs ${ACTOR_STYLE[ev.actor] ?? 'bg-violet-50 text-violet-800'}`}
                      >
                        {ev.actor}
                      </span>
                      <span className={`font-mono text-xs ${bad ? 'text-red-800' : 'text-slate-700'}`}>
                        {ev.action}
                      </span>
                    </p>
                    {ev.detail ? (
                      <p
                        className={`mt-0.5 break-words whitespace-pre-wrap ${bad ? 'text-red-900' : 'text-slate-800'}`}
                      >
                        {ev.detail}
                      </p>
                    ) : null}
                  </div>
                </li>
              );
            })}
          </ol>
        )}
      </div>
    </section>
  );
}

const RELEASE_STYLE = {
  deployed: 'text-emerald-800',
  failed: 'text-red-800',
  superseded: 'text-slate-600',
};

function Releases({ releases, current, deleted }) {
  const items = [...(releases?.items ?? [])].sort((a, b) => b.revision - a.revision);
  // A deleted store's release was uninstalled with it: what is listed is what it had, none current.
  const gone = deleted ? (
    <p className="px-4 pt-3 text-sm text-slate-600 sm:px-5" data-testid="releases-gone">
      The Helm release was uninstalled when the store was deleted
      {items.length
        ? '; these are the revisions it had.'
        : `, and its history with it${current ? ` (it had reached revision ${current})` : ''}. The timeline keeps what happened.`}
    </p>
  ) : null;
  return (
    <section className="card" aria-labelledby="releases-title">
      <div className="border-b border-slate-200 px-4 py-3 sm:px-5">
        <h2 id="releases-title" className="text-base font-semibold text-slate-900">
          Helm history
        </h2>
      </div>
      {releases?.error && !deleted ? <ErrorNotice error={releases.error} className="m-4" /> : null}
      {gone}
      {!releases ? (
        <p className="px-5 py-4 text-sm text-slate-500">Loading history…</p>
      ) : deleted && items.length === 0 ? null : items.length === 0 ? (
        <p className="px-5 py-4 text-sm text-slate-500">No Helm release yet.</p>
      ) : (
        <ScrollBox label="Helm history table" hint="Scroll sideways for all columns" testId="releases-scroll">
          <table className="w-full text-left text-sm" data-testid="releases">
            <thead className="text-xs text-slate-500 uppercase">
              <tr>
                <th scope="col" className="px-4 py-2 font-medium sm:pl-5">
                  Rev.
                </th>
                <th scope="col" className="px-2 py-2 font-medium">
                  Status
                </th>
                <th scope="col" className="px-2 py-2 font-medium">
                  Chart
                </th>
                <th scope="col" className="px-2 py-2 font-medium">
                  App
                </th>
                <th scope="col" className="px-2 py-2 font-medium">
                  Updated
                </th>
                <th scope="col" className="px-2 py-2 font-medium sm:pr-5">
                  Description
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {items.map((r) => (
                <tr key={r.revision} data-testid={`release-${r.revision}`}>
                  <td className="px-4 py-2 font-medium tabular-nums sm:pl-5">
                    {r.revision}
                    {r.revision === current && !deleted ? (
                      <span className="ml-1 text-xs font-normal text-slate-500">(current)</span>
                    ) : null}
                  </td>
                  <td className={`px-2 py-2 ${RELEASE_STYLE[r.status] ?? 'text-slate-700'}`}>{r.status}</td>
                  <td className="px-2 py-2 whitespace-nowrap">{r.chart}</td>
                  <td className="px-2 py-2 whitespace-nowrap">{r.app_version || '—'}</td>
                  <td className="px-2 py-2 whitespace-nowrap">
                    <Time iso={r.updated} relative={false} />
                  </td>
                  <td className="min-w-40 px-2 py-2 sm:pr-5">{r.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
    </section>
  );
}

// A box that scrolls sideways and says so when what it holds is wider than it is (a phone).
function ScrollBox({ label, hint, testId, children }) {
  const ref = useRef(null);
  const [wider, setWider] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    const check = () => setWider(el.scrollWidth > el.clientWidth + 1);
    check();
    if (typeof ResizeObserver === 'undefined') return undefined;
    const ro = new ResizeObserver(check);
    ro.observe(el);
    if (el.firstElementChild) ro.observe(el.firstElementChild);
    return () => ro.disconnect();
  }, []);
  return (
    <>
      {wider ? (
        <p className="px-4 pt-2 text-xs text-slate-600 sm:px-5" data-testid={`${testId}-hint`}>
          {hint} <span aria-hidden="true">→</span>
        </p>
      ) : null}
      <div ref={ref} className="overflow-x-auto" tabIndex={0} role="region" aria-label={label} data-testid={testId}>
        {children}
      </div>
    </>
  );
}

function Actions({ store, busy, chartVersions, releases, onApplied }) {
  const id = useId();
  const [error, setError] = useState(null);
  const [working, setWorking] = useState(null);
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState('');
  const [version, setVersion] = useState('');
  const [revision, setRevision] = useState('');
  const [rollingBack, setRollingBack] = useState(null);
  const deleteButton = useRef(null);
  const confirmInput = useRef(null);
  const rollbackButton = useRef(null);
  const rollbackConfirm = useRef(null);

  const upgradeTo = chartVersions.filter((v) => v !== store.chart_version);
  const rollbackTo = releases.filter((r) => r.revision !== store.helm_revision).sort((a, b) => b.revision - a.revision);

  useEffect(() => {
    if (!upgradeTo.includes(version)) setVersion(upgradeTo[0] ?? '');
  }, [upgradeTo.join(','), version]);
  useEffect(() => {
    if (!rollbackTo.some((r) => String(r.revision) === revision))
      setRevision(rollbackTo[0] ? String(rollbackTo[0].revision) : '');
  }, [rollbackTo.map((r) => r.revision).join(','), revision]);
  useEffect(() => {
    if (confirming) confirmInput.current?.focus();
  }, [confirming]);
  useEffect(() => {
    if (rollingBack) rollbackConfirm.current?.focus();
  }, [rollingBack]);
  const rollbackChart = releases.find((r) => String(r.revision) === rollingBack)?.chart;

  function cancelRollback() {
    setRollingBack(null);
    setTimeout(() => rollbackButton.current?.focus(), 0);
  }

  async function run(kind, fn, message) {
    setWorking(kind);
    setError(null);
    try {
      const s = await fn();
      announce(message);
      onApplied(s);
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setWorking(null);
    }
  }

  async function confirmDelete(e) {
    e.preventDefault();
    if (typed !== store.name) return;
    const ok = await run('delete', () => storesApi.remove(store.id), `Deleting store ${store.name}.`);
    if (ok) {
      setConfirming(false);
      setTyped('');
      // The list shows the deletion's progress and the row leaving.
      navigate('/');
    }
  }

  const stateAllows = store.status === 'READY' || store.status === 'FAILED';
  const note = busy
    ? 'An operation is running; wait for it to finish.'
    : store.status === 'DELETING'
      ? 'The store is being deleted.'
      : null;

  return (
    <section className="card p-4 sm:p-5" aria-labelledby={`${id}-title`} data-testid="actions">
      <h2 id={`${id}-title`} className="text-base font-semibold text-slate-900">
        Actions
      </h2>
      <p className="mt-1 min-h-5 text-xs text-slate-600">{note}</p>

      <div className="mt-2 space-y-4">
        {store.status === 'FAILED' ? (
          <div>
            <button
              type="button"
              className="btn-primary w-full"
              disabled={!!working}
              onClick={() => run('retry', () => storesApi.retry(store.id), `Retrying store ${store.name}.`)}
              data-testid="action-retry"
            >
              {working === 'retry' ? 'Retrying…' : 'Retry'}
            </button>
            <p className="mt-1 text-xs text-slate-600">Runs the provisioning again from where it stopped.</p>
          </div>
        ) : null}

        <form
          className="space-y-1"
          onSubmit={(e) => {
            e.preventDefault();
            if (version)
              run(
                'upgrade',
                () => storesApi.upgrade(store.id, version),
                `Upgrading store ${store.name} to chart ${version}.`,
              );
          }}
        >
          <label htmlFor={`${id}-version`} className="block text-sm font-medium text-slate-800">
            Upgrade to chart version
          </label>
          <div className="flex gap-2">
            <select
              id={`${id}-version`}
              className="field min-w-0 flex-1"
              value={version}
              onChange={(e) => setVersion(e.target.value)}
              disabled={upgradeTo.length === 0}
              data-testid="upgrade-version"
            >
              {upgradeTo.length === 0 ? <option value="">None available</option> : null}
              {upgradeTo.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
            <button
              type="submit"
              className="btn-secondary"
              disabled={!stateAllows || !version || !!working}
              data-testid="action-upgrade"
            >
              {working === 'upgrade' ? 'Upgrading…' : 'Upgrade'}
            </button>
          </div>
          <p className="text-xs text-slate-600">Current: {store.chart_version ?? 'none'}</p>
          {upgradeTo.length === 0 ? (
            <p className="text-xs text-slate-600" data-testid="upgrade-why">
              {chartVersions.length === 0
                ? 'The chart repository offers no versions, so there is nothing to upgrade to.'
                : `The chart repository offers only ${chartVersions.join(', ')}, which the store already runs.`}{' '}
              Redeploy re-applies the current version.
            </p>
          ) : null}
        </form>

        <div>
          <button
            type="button"
            className="btn-secondary w-full"
            disabled={!stateAllows || !store.chart_version || !!working}
            onClick={() =>
              run(
                'redeploy',
                () => storesApi.redeploy(store.id),
                `Redeploying store ${store.name} with chart ${store.chart_version}.`,
              )
            }
            data-testid="action-redeploy"
          >
            {working === 'redeploy' ? 'Redeploying…' : `Redeploy ${store.chart_version ?? ''}`.trim()}
          </button>
          <p className="mt-1 text-xs text-slate-600">
            Re-applies the chart version the store runs, with its current settings.
          </p>
        </div>

        <form
          className="space-y-1"
          onSubmit={(e) => {
            e.preventDefault();
            // Like a delete, a rollback is asked for twice: it replaces what the store runs.
            if (revision) setRollingBack(revision);
          }}
        >
          <label htmlFor={`${id}-revision`} className="block text-sm font-medium text-slate-800">
            Roll back to revision
          </label>
          <div className="flex gap-2">
            <select
              id={`${id}-revision`}
              className="field min-w-0 flex-1"
              value={revision}
              onChange={(e) => setRevision(e.target.value)}
              disabled={rollbackTo.length === 0 || !!rollingBack}
              data-testid="rollback-revision"
            >
              {rollbackTo.length === 0 ? <option value="">No earlier revision</option> : null}
              {rollbackTo.map((r) => (
                <option key={r.revision} value={String(r.revision)}>
                  {r.revision} · {r.chart} · {r.status}
                </option>
              ))}
            </select>
            <button
              ref={rollbackButton}
              type="submit"
              className="btn-secondary"
              disabled={!stateAllows || !revision || !!working || !!rollingBack}
              data-testid="action-rollback"
            >
              Roll back…
            </button>
          </div>
          {rollingBack ? (
            <div
              role="group"
              aria-labelledby={`${id}-rollback-question`}
              className="space-y-2 rounded-md border border-amber-300 bg-amber-50 p-3"
              data-testid="rollback-confirm"
              onKeyDown={(e) => {
                if (e.key === 'Escape') cancelRollback();
              }}
            >
              <p id={`${id}-rollback-question`} className="text-sm text-amber-950">
                Roll <strong>{store.name}</strong> back to revision {rollingBack}
                {rollbackChart ? ` (chart ${rollbackChart})` : ''}? The store then runs that revision’s chart and values
                again, replacing what it runs now.
              </p>
              <div className="flex gap-2">
                <button
                  ref={rollbackConfirm}
                  type="button"
                  className="btn-primary flex-1"
                  disabled={!!working}
                  onClick={async () => {
                    const to = rollingBack;
                    await run(
                      'rollback',
                      () => storesApi.rollback(store.id, Number(to)),
                      `Rolling store ${store.name} back to revision ${to}.`,
                    );
                    setRollingBack(null);
                  }}
                  data-testid="rollback-confirm-submit"
                >
                  {working === 'rollback' ? 'Rolling back…' : `Roll back to ${rollingBack}`}
                </button>
                <button type="button" className="btn-secondary" onClick={cancelRollback}>
                  Cancel
                </button>
              </div>
            </div>
          ) : null}
        </form>

        <div className="border-t border-slate-200 pt-4">
          {!confirming ? (
            <button
              ref={deleteButton}
              type="button"
              className="btn-danger w-full"
              disabled={store.status === 'DELETING' || !!working}
              onClick={() => {
                setError(null);
                setConfirming(true);
              }}
              data-testid="action-delete"
            >
              Delete store…
            </button>
          ) : (
            <form
              onSubmit={confirmDelete}
              onKeyDown={(e) => {
                if (e.key === 'Escape') {
                  setConfirming(false);
                  setTyped('');
                  setTimeout(() => deleteButton.current?.focus(), 0);
                }
              }}
              className="space-y-2 rounded-md border border-red-200 bg-red-50 p-3"
              data-testid="delete-confirm"
            >
              <p className="text-sm text-red-900">
                This removes the store, its database and its files for good. Type{' '}
                <strong className="font-mono">{store.name}</strong> to confirm.
              </p>
              <label htmlFor={`${id}-confirm`} className="sr-only">
                Type {store.name} to confirm
              </label>
              <input
                ref={confirmInput}
                id={`${id}-confirm`}
                type="text"
                autoComplete="off"
                autoCapitalize="none"
                spellCheck={false}
                className="field"
                value={typed}
                onChange={(e) => setTyped(e.target.value)}
                data-testid="delete-confirm-input"
              />
              <div className="flex gap-2">
                <button
                  type="submit"
                  className="btn-danger flex-1"
                  disabled={typed !== store.name || !!working}
                  data-testid="delete-confirm-submit"
                >
                  {working === 'delete' ? 'Deleting…' : 'Delete'}
                </button>
                <button
                  type="button"
                  className="btn-secondary"
                  onClick={() => {
                    setConfirming(false);
                    setTyped('');
                    setTimeout(() => deleteButton.current?.focus(), 0);
                  }}
                >
                  Cancel
                </button>
              </div>
            </form>
          )}
        </div>

        <ErrorNotice error={error} testId="action-error" />
      </div>
    </section>
  );
}
