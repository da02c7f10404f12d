// SPDX-License-Identifier: Apache-2.0

/**
 * Times come as ISO 8601 strings; an account's created_at/disabled_at come as Unix
 * seconds. Both become an ISO string (anything else is passed through).
 */
export function toIso(value) {
  if (typeof value !== 'number') return value;
  const d = new Date(value * 1000);
  return Number.isNaN(d.getTime()) ? String(value) : d.toISOString();
}

export function formatDateTime(value) {
  if (!value) return '';
  const iso = toIso(value);
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** Date and time of a timeline line, short enough for one line: "Nov 27, 08:52:21 PM". */
export function formatStamp(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** "just now", "5 min ago", "3 h ago", "2 days ago"; falls back to the date. */
export function formatRelative(value, now = Date.now()) {
  if (!value) return '';
  const iso = toIso(value);
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  const days = Math.round(h / 24);
  if (days < 30) return `${days} day${days === 1 ? '' : 's'} ago`;
  return new Date(iso).toLocaleDateString();
}

/** 75 -> "1 min 15 s"; used for Retry-After. */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  const rest = s % 60;
  if (m < 60) return rest ? `${m} min ${rest} s` : `${m} min`;
  const h = Math.floor(m / 60);
  const mm = m % 60;
  return mm ? `${h} h ${mm} min` : `${h} h`;
}

/** Bytes as people read them: "200 MiB", "2 GiB". */
export function formatBytes(n) {
  if (n == null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')} ${units[i]}`;
}

/** CPU in millicores as people read it: "150m", "1.5 cores". */
export function formatCpu(m) {
  if (m == null) return '–';
  if (m < 1000) return `${Math.round(m)}m`;
  const c = (m / 1000).toFixed(2).replace(/\.?0+$/, '');
  return `${c} ${c === '1' ? 'core' : 'cores'}`;
}
