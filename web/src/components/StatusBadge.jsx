// SPDX-License-Identifier: Apache-2.0
import { BUSY, STATUS_LABEL } from '../lib/status.js';

const STYLE = {
  PROVISIONING: 'bg-sky-50 text-sky-800 ring-sky-600/30',
  READY: 'bg-emerald-50 text-emerald-800 ring-emerald-600/30',
  FAILED: 'bg-red-50 text-red-800 ring-red-600/30',
  UPGRADING: 'bg-violet-50 text-violet-800 ring-violet-600/30',
  DELETING: 'bg-amber-50 text-amber-900 ring-amber-600/40',
  DELETED: 'bg-slate-100 text-slate-700 ring-slate-500/30',
};

const DOT = {
  PROVISIONING: 'bg-sky-500',
  READY: 'bg-emerald-500',
  FAILED: 'bg-red-500',
  UPGRADING: 'bg-violet-500',
  DELETING: 'bg-amber-500',
  DELETED: 'bg-slate-400',
};

export default function StatusBadge({ status, name }) {
  const style = STYLE[status] ?? STYLE.DELETED;
  return (
    <span
      className={`inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium whitespace-nowrap ring-1 ring-inset ${style}`}
      data-testid={name ? `status-${name}` : undefined}
      data-status={status}
    >
      <span
        aria-hidden="true"
        className={`size-1.5 rounded-full ${DOT[status] ?? DOT.DELETED} ${BUSY.has(status) ? 'motion-safe:animate-pulse' : ''}`}
      />
      {STATUS_LABEL[status] ?? status}
    </span>
  );
}
