// SPDX-License-Identifier: Apache-2.0
import { formatDateTime, formatRelative } from '../lib/format.js';

export default function Time({ iso, now, relative = true }) {
  if (!iso) return <span className="text-slate-500">—</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {relative ? formatRelative(iso, now) : formatDateTime(iso)}
    </time>
  );
}
