// SPDX-License-Identifier: Apache-2.0
// The step a busy store is on and how far along it is, as the daemon reports
// it. Without a total the bar is indeterminate rather than a guessed percentage.

export default function Progress({ step, progress, label, compact = false }) {
  const total = progress?.total > 0 ? progress.total : null;
  const current = total ? Math.min(Math.max(progress.current ?? 0, 0), total) : null;
  const pct = total ? Math.round((current / total) * 100) : null;
  const text = step || 'Waiting for the worker…';
  return (
    <div className={compact ? 'min-w-0' : 'min-w-0 space-y-1.5'}>
      <div className="flex items-baseline justify-between gap-2 text-xs text-slate-600">
        <span className="truncate" title={text}>
          {text}
        </span>
        {total ? (
          <span className="shrink-0 tabular-nums">
            {current}/{total}
          </span>
        ) : null}
      </div>
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={total ? 0 : undefined}
        aria-valuemax={total ? total : undefined}
        aria-valuenow={total ? current : undefined}
        aria-valuetext={total ? `${text} (step ${current} of ${total})` : text}
        className={`mt-1 overflow-hidden rounded-full bg-slate-200 ${compact ? 'h-1' : 'h-1.5'}`}
      >
        <div
          className={`h-full rounded-full bg-sky-600 transition-[width] duration-500 ${total ? '' : 'w-1/3 motion-safe:animate-pulse'}`}
          style={total ? { width: `${Math.max(pct, 4)}%` } : undefined}
        />
      </div>
    </div>
  );
}
