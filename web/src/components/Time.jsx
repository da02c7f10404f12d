// SPDX-License-Identifier: Apache-2.0
import { formatDateTime, formatRelative, toIso } from '../lib/format.js';

export default function Time({ iso: value, now, relative = true }) {
  if (!value) return <span className="text-slate-500">—</span>;
  const iso = toIso(value);
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {relative ? formatRelative(iso, now) : formatDateTime(iso)}
    </time>
  );
}
