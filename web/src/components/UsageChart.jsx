// SPDX-License-Identifier: Apache-2.0
// A small time-series chart drawn as SVG: one line of use over time and, when there is one, a
// dashed line at the limit (the namespace's quota). Screen readers get the title and a sentence
// with the latest value against the limit; the picture itself is decoration for them.
import { useId } from 'react';

const W = 320;
const H = 96;
const PAD = 4;

/**
 * The polyline points of values (each {t: ms, v: number|null}) scaled into the box: a null value
 * breaks the line (so unknown is never drawn as zero). Returns a list of segments, each a string.
 */
export function chartSegments(values, { max, from, to, width = W, height = H }) {
  const span = Math.max(to - from, 1);
  const top = max > 0 ? max : 1;
  const segments = [];
  let cur = [];
  for (const { t, v } of values) {
    if (v == null) {
      if (cur.length) segments.push(cur);
      cur = [];
      continue;
    }
    const x = PAD + ((t - from) / span) * (width - 2 * PAD);
    const y = height - PAD - (Math.min(v, top) / top) * (height - 2 * PAD);
    cur.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  }
  if (cur.length) segments.push(cur);
  return segments.map((s) => s.join(' '));
}

export default function UsageChart({ title, values, limit, format, from, to, testId, period = 'the last hour' }) {
  const id = useId();
  const known = values.filter((p) => p.v != null);
  const latest = known.length ? known[known.length - 1].v : null;
  const peak = known.reduce((m, p) => Math.max(m, p.v), 0);
  const max = Math.max(limit ?? 0, peak) * 1.1 || 1;
  const segments = chartSegments(values, { max, from, to });
  const limitY = limit ? H - PAD - (limit / max) * (H - 2 * PAD) : null;
  const summary =
    latest == null
      ? 'No samples yet.'
      : `Now ${format(latest)}${limit ? ` of ${format(limit)} (${Math.round((latest / limit) * 100)}%)` : ''}; ` +
        `peak ${format(peak)} in ${period}.`;

  return (
    <figure className="min-w-0" data-testid={testId} data-latest={latest ?? ''}>
      <figcaption id={`${id}-t`} className="flex flex-wrap justify-between gap-x-2 text-sm">
        <span className="font-medium text-slate-900">{title}</span>
        <span className="text-slate-700" data-testid={testId && `${testId}-summary`}>
          {summary}
        </span>
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        className="mt-1 h-24 w-full rounded-md border border-slate-200 bg-slate-50"
        preserveAspectRatio="none"
        aria-hidden="true"
        focusable="false"
      >
        {limitY != null ? (
          <line
            x1={PAD}
            x2={W - PAD}
            y1={limitY}
            y2={limitY}
            stroke="#b45309"
            strokeDasharray="4 3"
            strokeWidth="1"
            vectorEffect="non-scaling-stroke"
            data-testid={testId && `${testId}-limit`}
          />
        ) : null}
        {segments.map((pts, i) =>
          pts.includes(' ') ? (
            <polyline
              key={i}
              points={pts}
              fill="none"
              stroke="#0369a1"
              strokeWidth="2"
              vectorEffect="non-scaling-stroke"
            />
          ) : (
            <circle key={i} cx={pts.split(',')[0]} cy={pts.split(',')[1]} r="2" fill="#0369a1" />
          ),
        )}
      </svg>
      {limit ? (
        <p className="mt-1 text-xs text-slate-600">
          <span aria-hidden="true" className="text-amber-700">
            - - -{' '}
          </span>
          quota {format(limit)}
        </p>
      ) : null}
    </figure>
  );
}
