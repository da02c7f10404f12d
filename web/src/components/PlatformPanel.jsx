// SPDX-License-Identifier: Apache-2.0
import { useCallback, useEffect, useRef, useState } from 'react';
import { NetworkError, health, platform as platformApi } from '../lib/api.js';
import { formatDuration } from '../lib/format.js';
import { useBus } from '../lib/hooks.js';
import { STATUSES, STATUS_LABEL } from '../lib/status.js';
import ErrorNotice from './ErrorNotice.jsx';
import StatusBadge from './StatusBadge.jsx';

const QUOTAS = [
  ['max_stores', 'Active stores'],
  ['creates_per_hour', 'Creates this hour'],
];

// Each platform limit says whose use it counts: the daemon counts stores and queued operations
// over all accounts, creates and API requests for the signed-in account only.
const LIMITS = [
  ['max_stores', 'Active stores', 'all accounts'],
  ['creates_per_hour', 'Creates this hour', 'your account'],
  ['requests_per_window', 'API requests', 'your account'],
  ['max_pending_tasks', 'Queued operations', 'all accounts'],
];

export default function PlatformPanel() {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const pending = useRef(null);

  const [orphans, setOrphans] = useState(null);

  const load = useCallback(async () => {
    try {
      const d = await platformApi.get();
      setData(d);
      setError(null);
      // Admins also learn of the namespaces no store owns (the readiness check's details).
      if (d?.limits !== undefined) {
        const r = await health.ready().catch(() => null);
        setOrphans(r?.checks?.orphan_namespaces ?? null);
      }
    } catch (err) {
      setError(err);
    }
  }, []);

  useEffect(() => {
    load();
    const t = setInterval(load, 30000);
    return () => {
      clearInterval(t);
      clearTimeout(pending.current);
    };
  }, [load]);

  useBus('refresh', load);
  // Counts change only when a store changes status; one refetch per burst is enough.
  const statuses = useRef(new Map());
  useBus('store', (store) => {
    const before = statuses.current.get(store.id);
    statuses.current.set(store.id, store.status);
    if (before === store.status || pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      load();
    }, 400);
  });

  const counts = data?.stores_by_status ?? {};
  const shown = STATUSES.filter((s) => counts[s] > 0 || s === 'READY');
  // Tenants get only their own account's numbers (their stores by status, their quotas),
  // never the platform-wide limits.
  const platformWide = !data || data.limits !== undefined;
  const account = data?.account;
  const own = account && account.role !== 'admin';

  return (
    <section aria-labelledby="platform-title" className="card p-4 sm:p-5" data-testid="platform-panel">
      <div className="flex items-baseline justify-between gap-2">
        <h2 id="platform-title" className="text-base font-semibold text-slate-900">
          Platform
        </h2>
        {data?.version ? <span className="text-xs text-slate-500">storeagent {data.version}</span> : null}
      </div>

      {error && !data ? <ErrorNotice error={error} className="mt-3" /> : null}

      {account ? (
        <>
          <h3 className="mt-3 text-xs font-medium tracking-wide text-slate-500 uppercase">
            Your quotas
            <span className="normal-case tracking-normal">
              {' '}
              ({account.name}, {account.role})
            </span>
          </h3>
          <ul className="mt-2 space-y-3" data-testid="account-quotas">
            {QUOTAS.map(([key, label]) => (
              <LimitBar key={key} id={`account-${key}`} label={label} value={account.limits?.[key]} />
            ))}
          </ul>
        </>
      ) : null}

      {data && !data.cluster ? null : (
        <div className="mt-3 flex items-start gap-2 text-sm" data-testid="cluster-status">
          <span
            aria-hidden="true"
            className={`mt-1.5 size-2 shrink-0 rounded-full ${
              !data || error instanceof NetworkError
                ? 'bg-slate-300'
                : data.cluster?.reachable
                  ? 'bg-emerald-500'
                  : 'bg-red-500'
            }`}
          />
          <p className="min-w-0">
            <span className="font-medium text-slate-800">Cluster: </span>
            {error instanceof NetworkError ? (
              <span className="text-slate-500">unknown while the daemon is unreachable</span>
            ) : !data ? (
              <span className="text-slate-500">checking…</span>
            ) : data.cluster?.reachable ? (
              <span className="text-emerald-800">reachable</span>
            ) : (
              <span className="font-medium text-red-800">unreachable</span>
            )}
            {data?.cluster?.detail ? (
              <span className="block break-words text-xs text-slate-600">{data.cluster.detail}</span>
            ) : null}
          </p>
        </div>
      )}

      {!data || data.stores_by_status ? (
        <>
          <h3 className="mt-4 text-xs font-medium tracking-wide text-slate-500 uppercase">
            {own ? 'Your stores by status' : 'Stores by status, all accounts'}
          </h3>
          <ul className="mt-2 flex min-h-6 flex-wrap gap-2" data-testid="stores-by-status">
            {data
              ? shown.map((s) => (
                  <li key={s} className="flex items-center gap-1 text-sm">
                    <StatusBadge status={s} />
                    <span className="tabular-nums text-slate-800">{counts[s] ?? 0}</span>
                  </li>
                ))
              : null}
          </ul>
        </>
      ) : null}

      {data?.capacity ? <Capacity capacity={data.capacity} /> : null}

      {platformWide && orphans?.length ? (
        <div data-testid="orphans">
          <h3 className="mt-4 text-xs font-medium tracking-wide text-slate-500 uppercase">Orphan namespaces</h3>
          <p className="mt-1 text-xs text-slate-600">
            Labelled as storeagent’s, but no store owns them; storeagent leaves them alone. Check each, then delete it
            with <code>kubectl delete namespace</code>.
          </p>
          <ul className="mt-1 space-y-0.5 text-sm">
            {orphans.map((o) => (
              <li key={o.namespace} className="break-all text-slate-800" data-testid={`orphan-${o.namespace}`}>
                <code className="font-mono text-xs">{o.namespace}</code>
                {o.store_id ? <span className="text-xs text-slate-600"> (store {o.store_id})</span> : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      {platformWide ? (
        <>
          <h3 className="mt-4 text-xs font-medium tracking-wide text-slate-500 uppercase">Platform limits</h3>
          <ul className="mt-2 space-y-3">
            {LIMITS.map(([key, label, scope]) => (
              <LimitBar key={key} id={key} label={label} scope={scope} value={data?.limits?.[key]} />
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

const RESOURCES = [
  ['memory', 'Memory'],
  ['cpu', 'CPU'],
  ['pods', 'Pods'],
];

// The agent's units: memory in bytes, CPU in millicores, pods counted.
export function formatAmount(resource, v) {
  const n = Math.max(0, v ?? 0);
  if (resource === 'cpu') return n % 1000 === 0 ? `${n / 1000}` : `${Math.round(n)}m`;
  if (resource !== 'memory') return `${Math.round(n)}`;
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti'];
  let x = n;
  let u = 0;
  while (x >= 1024 && u + 1 < units.length) {
    x /= 1024;
    u += 1;
  }
  return Math.abs(x - Math.round(x)) < 0.05 ? `${Math.round(x)}${units[u]}` : `${x.toFixed(1)}${units[u]}`;
}

// How full the nodes are: an admin sees every resource's free of allocatable and each node; a tenant
// only whether a new store fits. When full, what to do about it.
function Capacity({ capacity }) {
  const admin = capacity.nodes !== undefined;
  const short = admin ? RESOURCES.find(([r]) => (capacity.free?.[r] ?? 0) < (capacity.store_needs?.[r] ?? 0)) : null;
  return (
    <div data-testid="capacity">
      <h3 className="mt-4 text-xs font-medium tracking-wide text-slate-500 uppercase">Room for stores</h3>
      {!capacity.known ? (
        <p className="mt-2 text-sm text-slate-600" data-testid="capacity-summary">
          Unknown: {capacity.detail ?? 'the nodes could not be read.'}
        </p>
      ) : (
        <p
          className={`mt-2 text-sm ${capacity.fits ? 'text-slate-800' : 'font-medium text-red-800'}`}
          data-testid="capacity-summary"
        >
          {capacity.fits
            ? admin
              ? `${capacity.stores_that_fit} more ${capacity.stores_that_fit === 1 ? 'store fits' : 'stores fit'}.`
              : 'A new store fits.'
            : admin
              ? 'Full: a new store does not fit.'
              : 'Full: a new store does not fit now.'}
        </p>
      )}
      {capacity.known && !capacity.fits ? (
        <p className="mt-1 text-sm text-slate-700" data-testid="capacity-advice">
          {admin ? (
            <>
              {short
                ? `A store needs ${formatAmount(short[0], capacity.store_needs[short[0]])} ${short[1].toLowerCase()}, ${formatAmount(short[0], capacity.free[short[0]])} is free. `
                : null}
              Add a node, raise <code>stores.capacity.overcommit_percent</code>, or delete stores.
            </>
          ) : (
            'Delete one of your stores, or ask the operator to add room.'
          )}
        </p>
      ) : null}
      {admin && capacity.known ? (
        <>
          <ul className="mt-2 space-y-3">
            {RESOURCES.map(([r, label]) => (
              <FreeBar
                key={r}
                id={`capacity-${r}`}
                label={`${label} free`}
                free={capacity.free?.[r]}
                total={capacity.allocatable?.[r]}
                format={(v) => formatAmount(r, v)}
              />
            ))}
          </ul>
          <p className="mt-2 text-xs text-slate-600">
            A store reserves {formatAmount('memory', capacity.store_needs?.memory)} memory,{' '}
            {formatAmount('cpu', capacity.store_needs?.cpu)} CPU, {capacity.store_needs?.pods} pods
            {capacity.overcommit_percent !== 100 ? `; overcommit ${capacity.overcommit_percent}%` : ''}.
          </p>
          <h4 className="mt-3 text-xs font-medium text-slate-600">Nodes</h4>
          <ul className="mt-1 space-y-1 text-xs" data-testid="capacity-nodes">
            {capacity.nodes.map((n) => (
              <li
                key={n.name}
                data-testid={`capacity-node-${n.name}`}
                className="flex flex-wrap justify-between gap-x-2"
              >
                <span className="break-all font-medium text-slate-800">
                  {n.name}
                  {n.schedulable ? '' : ' (not schedulable)'}
                </span>
                <span className="tabular-nums text-slate-700">
                  memory {formatAmount('memory', n.requested?.memory)} of{' '}
                  {formatAmount('memory', n.allocatable?.memory)}, CPU {formatAmount('cpu', n.requested?.cpu)} of{' '}
                  {formatAmount('cpu', n.allocatable?.cpu)} requested
                </span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

function FreeBar({ id, label, free, total, format }) {
  const pct = total > 0 ? Math.min(100, Math.round(((total - (free ?? 0)) / total) * 100)) : 100;
  const color = pct >= 100 ? 'bg-red-600' : pct >= 80 ? 'bg-amber-500' : 'bg-slate-700';
  return (
    <li data-testid={id}>
      <div className="flex justify-between gap-2 text-sm">
        <span className="text-slate-700">
          {label}
          <span className="sr-only">:</span>
        </span>
        <span className="tabular-nums text-slate-900">
          {format(free)} of {format(total)}
        </span>
      </div>
      <div aria-hidden="true" className="mt-1 h-1.5 overflow-hidden rounded-full bg-slate-200">
        <div className={`h-full rounded-full ${color}`} style={{ width: `${pct}%` }} />
      </div>
    </li>
  );
}

function LimitBar({ id, label, scope, value }) {
  // A null limit is no limit (an admin's own quota).
  const unlimited = value && value.limit == null;
  const limit = value?.limit ?? 0;
  const used = value?.used ?? 0;
  const pct = limit > 0 ? Math.min(100, Math.round((used / limit) * 100)) : 0;
  const color = pct >= 100 ? 'bg-red-600' : pct >= 80 ? 'bg-amber-500' : 'bg-slate-700';
  const per = value?.window_seconds ? ` per ${formatDuration(value.window_seconds)}` : '';
  return (
    <li data-testid={`limit-${id}`}>
      <div className="flex justify-between gap-2 text-sm">
        <span className="text-slate-700">
          {label}
          {per}
          {scope ? <span className="text-xs text-slate-600"> · {scope}</span> : null}
          <span className="sr-only">:</span>
        </span>
        <span className="tabular-nums text-slate-900">
          {!value ? '–' : unlimited ? `${used} (no limit)` : `${used} of ${limit}`}
        </span>
      </div>
      <div aria-hidden="true" className="mt-1 h-1.5 overflow-hidden rounded-full bg-slate-200">
        <div className={`h-full rounded-full ${color}`} style={{ width: `${pct}%` }} />
      </div>
    </li>
  );
}
