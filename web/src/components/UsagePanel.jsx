// SPDX-License-Identifier: Apache-2.0
// A store's resource use over the last hour: CPU and memory of its pods against the namespace's
// quota, and the storage its volume claims request. Without the cluster's metrics API the panel
// says so (and why) instead of drawing zeros.
import { useCallback, useEffect, useId, useState } from 'react';
import { stores as storesApi } from '../lib/api.js';
import { formatBytes, formatCpu } from '../lib/format.js';
import ErrorNotice from './ErrorNotice.jsx';
import UsageChart from './UsageChart.jsx';

const REFRESH_MS = 30000;

export default function UsagePanel({ store }) {
  const id = useId();
  const [usage, setUsage] = useState(null);
  const [error, setError] = useState(null);

  const load = useCallback(async () => {
    try {
      setUsage(await storesApi.usage(store.id));
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [store.id]);

  useEffect(() => {
    load();
    const every = Math.max((usage?.interval_seconds ?? 30) * 1000, 5000);
    const t = setInterval(load, Math.min(every, REFRESH_MS));
    return () => clearInterval(t);
  }, [load, usage?.interval_seconds]);

  const samples = usage?.samples ?? [];
  const last = samples.length ? samples[samples.length - 1] : null;
  const to = Date.now();
  const from = to - (usage?.window_seconds ?? 3600) * 1000;
  const series = (key) => samples.map((s) => ({ t: Date.parse(s.at), v: s[key] }));
  const unavailable = usage && usage.metrics !== 'available';

  return (
    <section className="card p-4 sm:p-5" aria-labelledby={`${id}-title`} data-testid="usage">
      <h2 id={`${id}-title`} className="text-base font-semibold text-slate-900">
        Resource use
      </h2>
      {unavailable ? (
        <p
          className="mt-2 rounded-md bg-amber-50 p-2 text-sm text-amber-900"
          role="status"
          data-testid="usage-unavailable"
        >
          CPU and memory use cannot be shown: {usage.reason ?? 'the metrics API is not available.'}
        </p>
      ) : null}
      {usage && !samples.length ? (
        <p className="mt-2 text-sm text-slate-600" data-testid="usage-none">
          No samples yet: the agent samples ready stores every {usage.interval_seconds || '–'} s.
        </p>
      ) : null}
      {samples.length ? (
        <div className="mt-3 grid grid-cols-[minmax(0,1fr)] gap-4 sm:grid-cols-2">
          {!unavailable ? (
            <>
              <UsageChart
                title="CPU"
                values={series('cpu_millicores')}
                limit={last?.cpu_quota_millicores}
                format={formatCpu}
                from={from}
                to={to}
                testId="usage-cpu"
              />
              <UsageChart
                title="Memory"
                values={series('memory_bytes')}
                limit={last?.memory_quota_bytes}
                format={formatBytes}
                from={from}
                to={to}
                testId="usage-memory"
              />
            </>
          ) : null}
          <UsageChart
            title="Storage requested"
            values={series('storage_requested_bytes')}
            limit={last?.storage_quota_bytes}
            format={formatBytes}
            from={from}
            to={to}
            testId="usage-storage"
          />
        </div>
      ) : null}
      {last && !unavailable && last.pods.length ? (
        <table className="mt-3 w-full text-left text-sm" data-testid="usage-pods">
          <caption className="sr-only">Use of each pod at the latest sample</caption>
          <thead className="text-slate-600">
            <tr>
              <th scope="col" className="py-1 pr-2 font-medium">
                Pod
              </th>
              <th scope="col" className="py-1 pr-2 font-medium">
                CPU
              </th>
              <th scope="col" className="py-1 font-medium">
                Memory
              </th>
            </tr>
          </thead>
          <tbody>
            {last.pods.map((p) => (
              <tr key={p.name} className="border-t border-slate-100">
                <td className="max-w-0 truncate py-1 pr-2 text-slate-900" title={p.name}>
                  {p.name}
                </td>
                <td className="py-1 pr-2 whitespace-nowrap text-slate-700">{formatCpu(p.cpu_millicores)}</td>
                <td className="py-1 whitespace-nowrap text-slate-700">{formatBytes(p.memory_bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {!usage && !error ? <p className="mt-2 text-sm text-slate-600">Reading…</p> : null}
      <ErrorNotice error={error} testId="usage-error" className={error ? 'mt-3' : ''} />
    </section>
  );
}
