// SPDX-License-Identifier: Apache-2.0
// The platform page (admins): how many stores were in each status over the last day or week, how
// long the last creates took to become ready (each create a bar, with p50 and p95 lines), and the
// room left on the nodes once the stores' quotas are reserved. Every picture has its numbers in
// words or in a table for screen readers and for anyone who prefers them.
import { useCallback, useEffect, useId, useState } from 'react';
import { platform as platformApi } from '../lib/api.js';
import { formatDateTime, formatDuration } from '../lib/format.js';
import { useBus } from '../lib/hooks.js';
import { STATUS_LABEL } from '../lib/status.js';
import ErrorNotice from './ErrorNotice.jsx';
import PageHeading from './PageHeading.jsx';
import { formatAmount } from './PlatformPanel.jsx';
import UsageChart from './UsageChart.jsx';

export const WINDOWS = [
  [86400, 'Last 24 hours', 'the last 24 hours'],
  [604800, 'Last 7 days', 'the last 7 days'],
];
const CREATES = [10, 20, 50, 100];
const SHOWN = ['READY', 'PROVISIONING', 'FAILED', 'UPGRADING', 'DELETING'];
const REFRESH_MS = 30000;

export default function PlatformPage() {
  const id = useId();
  const [span, setSpan] = useState(WINDOWS[0][0]);
  const [creates, setCreates] = useState(20);
  const [stats, setStats] = useState(null);
  const [error, setError] = useState(null);

  const load = useCallback(async () => {
    try {
      setStats(await platformApi.stats({ window: span, creates, points: span > 86400 ? 84 : 48 }));
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [span, creates]);

  useEffect(() => {
    load();
    const t = setInterval(load, REFRESH_MS);
    return () => clearInterval(t);
  }, [load]);
  useBus('refresh', load);

  const period = WINDOWS.find(([w]) => w === span)?.[2] ?? '';
  return (
    <div className="space-y-4" data-testid="platform-page">
      <PageHeading title="Platform" />
      <ErrorNotice error={error} testId="platform-stats-error" />

      <section className="card p-4 sm:p-5" aria-labelledby={`${id}-status`} data-testid="status-history">
        <div className="flex flex-wrap items-baseline justify-between gap-2">
          <h2 id={`${id}-status`} className="text-base font-semibold text-slate-900">
            Stores by status over time
          </h2>
          <fieldset className="flex gap-1" data-testid="window-picker">
            <legend className="sr-only">Period</legend>
            {WINDOWS.map(([w, label]) => (
              <button
                key={w}
                type="button"
                aria-pressed={span === w}
                className={span === w ? 'btn-primary' : 'btn-secondary'}
                onClick={() => setSpan(w)}
                data-testid={`window-${w}`}
              >
                {label}
              </button>
            ))}
          </fieldset>
        </div>
        {stats ? <StatusHistory history={stats.stores_by_status} period={period} /> : <Reading error={error} />}
      </section>

      <section className="card p-4 sm:p-5" aria-labelledby={`${id}-prov`} data-testid="provision-times">
        <div className="flex flex-wrap items-baseline justify-between gap-2">
          <h2 id={`${id}-prov`} className="text-base font-semibold text-slate-900">
            Provisioning time
          </h2>
          <label className="flex items-center gap-2 text-sm text-slate-700">
            Last
            <select
              className="field h-9 w-auto"
              value={creates}
              onChange={(e) => setCreates(Number(e.target.value))}
              data-testid="creates-picker"
            >
              {CREATES.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
            creates
          </label>
        </div>
        {stats ? <ProvisionTimes times={stats.provisioning} /> : <Reading error={error} />}
      </section>

      <section className="card p-4 sm:p-5" aria-labelledby={`${id}-room`} data-testid="room-left">
        <h2 id={`${id}-room`} className="text-base font-semibold text-slate-900">
          Room left on the nodes
        </h2>
        {stats ? <RoomLeft capacity={stats.capacity} /> : <Reading error={error} />}
      </section>
    </div>
  );
}

function Reading({ error }) {
  return error ? null : <p className="mt-2 text-sm text-slate-600">Reading…</p>;
}

const count = (n) => `${n ?? 0}`;

/** One small chart per status (those that had stores in the period, and READY always), and the table. */
export function StatusHistory({ history, period }) {
  const points = history?.points ?? [];
  const times = points.map((p) => Date.parse(p.at));
  const from = times[0] ?? 0;
  const to = times[times.length - 1] ?? 1;
  const shown = SHOWN.filter((s) => s === 'READY' || points.some((p) => (p.counts?.[s] ?? 0) > 0));
  const rows = points.filter((p, i) => i === points.length - 1 || i % Math.ceil(points.length / 12) === 0);
  return (
    <>
      {history?.complete_since ? (
        <p className="mt-2 text-xs text-slate-600" data-testid="status-history-partial">
          Known from {formatDateTime(history.complete_since)}: older changes were pruned (platform.history_max_changes).
        </p>
      ) : null}
      <div className="mt-3 grid grid-cols-[minmax(0,1fr)] gap-4 sm:grid-cols-2">
        {shown.map((s) => (
          <UsageChart
            key={s}
            title={STATUS_LABEL[s] ?? s}
            values={points.map((p, i) => ({ t: times[i], v: p.counts ? (p.counts[s] ?? 0) : null }))}
            format={count}
            from={from}
            to={to}
            period={period}
            testId={`status-${s}`}
          />
        ))}
      </div>
      <details className="mt-3 text-sm">
        <summary className="cursor-pointer text-slate-700">Show as a table</summary>
        <div className="mt-2 overflow-x-auto">
          <table className="w-full text-left" data-testid="status-history-table">
            <caption className="sr-only">Stores by status over {period}</caption>
            <thead className="text-slate-600">
              <tr>
                <th scope="col" className="py-1 pr-2 font-medium">
                  Time
                </th>
                {shown.map((s) => (
                  <th key={s} scope="col" className="py-1 pr-2 font-medium">
                    {STATUS_LABEL[s] ?? s}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.at} className="border-t border-slate-100">
                  <td className="py-1 pr-2 whitespace-nowrap text-slate-700">{formatDateTime(p.at)}</td>
                  {shown.map((s) => (
                    <td key={s} className="py-1 pr-2 tabular-nums text-slate-900">
                      {p.counts ? (p.counts[s] ?? 0) : '–'}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </>
  );
}

const BW = 320;
const BH = 120;
const PAD = 4;

/** The bar heights and the p50/p95 line heights, in the chart's box (oldest create first). */
export function barLayout(seconds, p50, p95, { width = BW, height = BH } = {}) {
  const top = Math.max(...seconds, p95 ?? 0, 1) * 1.1;
  const slot = (width - 2 * PAD) / Math.max(seconds.length, 1);
  const y = (v) => height - PAD - (v / top) * (height - 2 * PAD);
  // A few creates are narrow bars, not slabs.
  const w = Math.min(slot * 0.7, 16);
  return {
    bars: seconds.map((s, i) => ({
      x: PAD + i * slot + (slot - w) / 2,
      w,
      y: y(s),
      h: height - PAD - y(s),
    })),
    p50: p50 == null ? null : y(p50),
    p95: p95 == null ? null : y(p95),
  };
}

export function ProvisionTimes({ times }) {
  const creates = [...(times?.creates ?? [])].reverse();
  if (!creates.length)
    return (
      <p className="mt-2 text-sm text-slate-600" data-testid="provision-none">
        No store has become ready yet.
      </p>
    );
  const layout = barLayout(
    creates.map((c) => c.seconds),
    times.p50_seconds,
    times.p95_seconds,
  );
  const line = (y, color, dash, testId) => (
    <line
      x1={PAD}
      x2={BW - PAD}
      y1={y}
      y2={y}
      stroke={color}
      strokeDasharray={dash}
      strokeWidth="1.5"
      vectorEffect="non-scaling-stroke"
      data-testid={testId}
    />
  );
  return (
    <figure className="mt-3 min-w-0" data-testid="provision-chart" data-p50={times.p50_seconds}>
      <figcaption className="text-sm text-slate-800" data-testid="provision-summary">
        Over the last {creates.length} {creates.length === 1 ? 'create' : 'creates'}: half were ready within{' '}
        <strong>{formatDuration(times.p50_seconds)}</strong> (p50), 95% within{' '}
        <strong>{formatDuration(times.p95_seconds)}</strong> (p95).
      </figcaption>
      <svg
        viewBox={`0 0 ${BW} ${BH}`}
        className="mt-1 h-32 w-full rounded-md border border-slate-200 bg-slate-50"
        preserveAspectRatio="none"
        aria-hidden="true"
        focusable="false"
      >
        {layout.bars.map((b, i) => (
          <rect
            key={creates[i].id}
            x={b.x}
            y={b.y}
            width={b.w}
            height={b.h}
            fill="#0369a1"
            data-testid="provision-bar"
          />
        ))}
        {layout.p50 != null ? line(layout.p50, '#047857', '4 3', 'provision-p50') : null}
        {layout.p95 != null ? line(layout.p95, '#b45309', '2 2', 'provision-p95') : null}
      </svg>
      <p className="mt-1 flex flex-wrap gap-x-3 text-xs text-slate-600" aria-hidden="true">
        <span>
          <span className="text-sky-700">■</span> one create, oldest left
        </span>
        <span>
          <span className="text-emerald-700">- - -</span> p50
        </span>
        <span>
          <span className="text-amber-700">···</span> p95
        </span>
      </p>
      <details className="mt-2 text-sm">
        <summary className="cursor-pointer text-slate-700">Show as a table</summary>
        <div className="mt-2 overflow-x-auto">
          <table className="w-full text-left" data-testid="provision-table">
            <caption className="sr-only">Provisioning time of each create, newest first</caption>
            <thead className="text-slate-600">
              <tr>
                <th scope="col" className="py-1 pr-2 font-medium">
                  Store
                </th>
                <th scope="col" className="py-1 pr-2 font-medium">
                  Created
                </th>
                <th scope="col" className="py-1 font-medium">
                  Ready after
                </th>
              </tr>
            </thead>
            <tbody>
              {times.creates.map((c) => (
                <tr key={c.id} className="border-t border-slate-100">
                  <td className="max-w-0 truncate py-1 pr-2 text-slate-900" title={c.name}>
                    {c.name}
                  </td>
                  <td className="py-1 pr-2 whitespace-nowrap text-slate-700">{formatDateTime(c.created_at)}</td>
                  <td className="py-1 whitespace-nowrap tabular-nums text-slate-700">{formatDuration(c.seconds)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

const RESOURCES = [
  ['memory', 'Memory'],
  ['cpu', 'CPU'],
  ['pods', 'Pods'],
];

/** Per resource, a bar of the schedulable nodes' allocatable: what stores reserve, other pods use, and what is left. */
export function RoomLeft({ capacity }) {
  if (!capacity?.known)
    return (
      <p className="mt-2 text-sm text-slate-600" data-testid="room-unknown">
        Unknown: {capacity?.detail ?? 'the nodes could not be read.'}
      </p>
    );
  return (
    <>
      <p className="mt-2 text-sm text-slate-800" data-testid="room-summary">
        {capacity.stores_that_fit} more {capacity.stores_that_fit === 1 ? 'store fits' : 'stores fit'};{' '}
        {capacity.active_stores} active{' '}
        {capacity.active_stores === 1 ? 'store reserves its quota' : 'stores reserve their quotas'}.
      </p>
      <ul className="mt-3 space-y-3">
        {RESOURCES.map(([r, label]) => {
          const total = capacity.allocatable?.[r] ?? 0;
          const stores = capacity.reserved_by_stores?.[r] ?? 0;
          const other = capacity.used_by_other_pods?.[r] ?? 0;
          const free = capacity.free?.[r] ?? 0;
          const pct = (v) => (total > 0 ? Math.max(0, Math.min(100, (v / total) * 100)) : 0);
          const f = (v) => formatAmount(r, v);
          return (
            <li key={r} data-testid={`room-${r}`} data-free={free}>
              <div className="flex flex-wrap justify-between gap-x-2 text-sm">
                <span className="font-medium text-slate-800">{label}</span>
                <span className="tabular-nums text-slate-700">
                  {f(free)} left of {f(total)}: stores {f(stores)}, other pods {f(other)}
                </span>
              </div>
              <div aria-hidden="true" className="mt-1 flex h-3 overflow-hidden rounded-full bg-emerald-100">
                <div className="h-full bg-sky-700" style={{ width: `${pct(stores)}%` }} />
                <div className="h-full bg-slate-400" style={{ width: `${pct(other)}%` }} />
              </div>
            </li>
          );
        })}
      </ul>
      <p className="mt-2 flex flex-wrap gap-x-3 text-xs text-slate-600" aria-hidden="true">
        <span>
          <span className="text-sky-700">■</span> reserved by stores
        </span>
        <span>
          <span className="text-slate-400">■</span> other pods
        </span>
        <span>
          <span className="text-emerald-300">■</span> left
        </span>
      </p>
    </>
  );
}
