// SPDX-License-Identifier: Apache-2.0
// A store's backups: the list (time, who or the schedule, state, sizes), take one now and watch
// it, download each file, restore or delete one after typing the store's name, make a new store
// from one (a clone, after its name is given), and the store's schedule. The list is read again while a backup is queued or running, and when the store changes.
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { api } from '../lib/api.js';
import { announce } from '../lib/announce.js';
import { formatDateTime } from '../lib/format.js';
import { useBus, useNow } from '../lib/hooks.js';
import { NAME_MAX, validateStoreName } from '../lib/name.js';
import { Link } from '../lib/router.js';
import ErrorNotice from './ErrorNotice.jsx';
import Progress from './Progress.jsx';
import Time from './Time.jsx';

const path = (id) => `/stores/${encodeURIComponent(id)}`;

export const backupsApi = {
  list: (id) => api(`${path(id)}/backups`),
  take: (id) => api(`${path(id)}/backups`, { method: 'POST', body: {} }),
  restore: (id, backup) => api(`${path(id)}/restore`, { method: 'POST', body: { backup } }),
  remove: (id, backup) => api(`${path(id)}/backups/${encodeURIComponent(backup)}`, { method: 'DELETE' }),
  fileUrl: (id, backup, file) =>
    `/api/v1${path(id)}/backups/${encodeURIComponent(backup)}/files/${encodeURIComponent(file)}`,
  schedule: (id) => api(`${path(id)}/backup-schedule`),
  clone: (name, id, backup) =>
    api('/stores', { method: 'POST', body: { name, engine: 'woocommerce', from_backup: { store: id, backup } } }),
  setSchedule: (id, everySec) => api(`${path(id)}/backup-schedule`, { method: 'PATCH', body: { every_sec: everySec } }),
};

export const POLL_MS = 2000;
const ACTIVE = new Set(['queued', 'running']);
const STATUS_TEXT = { queued: 'Queued', running: 'Running', succeeded: 'Succeeded', failed: 'Failed' };
const STATUS_STYLE = {
  queued: 'bg-slate-100 text-slate-800',
  running: 'bg-sky-50 text-sky-900',
  succeeded: 'bg-emerald-50 text-emerald-900',
  failed: 'bg-red-50 text-red-900',
};
/* Who wanted the backup; a restore's safety backup names the backup restored (the store before it). */
function kindText(b, list) {
  if (b.kind === 'safety') {
    const target = list.find((x) => x.id === b.safety_for);
    const what = target ? `the backup of ${formatDateTime(target.created_at)}` : `backup ${b.safety_for}`;
    return `The store before the restore of ${what}, by ${b.actor}`;
  }
  return b.scheduled ? 'Scheduled' : `Manual, by ${b.actor}`;
}
const INTERVALS = [3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400];

export function formatBytes(n) {
  if (n == null) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function formatInterval(sec) {
  if (!sec) return 'off';
  if (sec % (7 * 86400) === 0) return sec === 7 * 86400 ? 'every week' : `every ${sec / (7 * 86400)} weeks`;
  if (sec % 86400 === 0) return sec === 86400 ? 'every day' : `every ${sec / 86400} days`;
  if (sec % 3600 === 0) return sec === 3600 ? 'every hour' : `every ${sec / 3600} hours`;
  if (sec % 60 === 0) return `every ${sec / 60} min`;
  return `every ${sec} s`;
}

/** "Scheduled backups kept: the last 3, one a day for 7 days." from backups.keep_*. */
export function retention(keep) {
  const parts = [];
  if (keep?.last) parts.push(`the last ${keep.last}`);
  if (keep?.daily) parts.push(`one a day for ${keep.daily} day${keep.daily === 1 ? '' : 's'}`);
  if (keep?.weekly) parts.push(`one a week for ${keep.weekly} week${keep.weekly === 1 ? '' : 's'}`);
  return parts.length ? `Scheduled backups kept: ${parts.join(', ')}.` : 'Scheduled backups kept: the newest.';
}

/** The files of a succeeded backup: its parts, then its manifest. */
function filesOf(b) {
  const parts = (b.manifest?.parts ?? []).map((p) => ({ name: p.name, size: p.size_bytes, raw: p.uncompressed_bytes }));
  return [...parts, { name: 'manifest.json', size: null, raw: null }];
}

export default function BackupsPanel({ store }) {
  const id = useId();
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [actionError, setActionError] = useState(null);
  const [working, setWorking] = useState(null); // 'take', or `${kind}:${backup id}`
  const [confirm, setConfirm] = useState(null); // { kind: 'restore' | 'delete', backup }
  const [typed, setTyped] = useState('');
  const [note, setNote] = useState('');
  const [cloning, setCloning] = useState(null); // the backup a new store is being made from
  const [cloned, setCloned] = useState(null); // { store, when } of the last clone asked for
  const opener = useRef(null); // { backup id, kind } of the button that opened the confirmation
  const section = useRef(null);
  const heading = useRef(null);
  const seen = useRef(new Map()); // backup id -> the status last read
  const confirmInput = useRef(null);
  const now = useNow();

  const load = useCallback(async () => {
    try {
      const r = await backupsApi.list(store.id);
      const list = r?.items ?? [];
      // Say when a backup this page watched comes to an end.
      for (const b of list) {
        const was = seen.current.get(b.id);
        if (was && ACTIVE.has(was) && !ACTIVE.has(b.status)) {
          const msg = `Backup of ${store.name} ${b.status === 'succeeded' ? 'succeeded' : 'failed'}.`;
          setNote(msg);
          announce(msg);
        }
        seen.current.set(b.id, b.status);
      }
      setItems(list);
      setError(null);
    } catch (err) {
      setError(err);
      setItems((old) => old ?? []);
    }
  }, [store.id, store.name]);

  useEffect(() => {
    load();
  }, [load, store.updated_at, store.status]);
  useBus('refresh', load);

  const active = (items ?? []).some((b) => ACTIVE.has(b.status));
  useEffect(() => {
    if (!active) return undefined;
    const t = setInterval(load, POLL_MS);
    return () => clearInterval(t);
  }, [active, load]);

  useEffect(() => {
    if (confirm) confirmInput.current?.focus();
  }, [confirm]);

  function closeConfirm() {
    setConfirm(null);
    setTyped('');
    const o = opener.current;
    setTimeout(
      () =>
        section.current
          ?.querySelector(`[data-testid="backup-${o?.backup}"] [data-testid="backup-${o?.kind}"]`)
          ?.focus(),
      0,
    );
  }

  async function takeNow() {
    setWorking('take');
    setActionError(null);
    try {
      const b = await backupsApi.take(store.id);
      if (b?.id) seen.current.set(b.id, b.status);
      if (b?.id) setItems((old) => [b, ...(old ?? []).filter((x) => x.id !== b.id)]);
      setNote(`Backup of ${store.name} queued.`);
      announce(`Backup of ${store.name} queued.`);
      load();
    } catch (err) {
      setActionError(err);
    } finally {
      setWorking(null);
    }
  }

  async function confirmed(e) {
    e.preventDefault();
    if (!confirm || typed !== store.name) return;
    const { kind, backup } = confirm;
    setWorking(`${kind}:${backup.id}`);
    setActionError(null);
    try {
      if (kind === 'restore') {
        await backupsApi.restore(store.id, backup.id);
        const msg = `Restoring ${store.name} from the backup of ${formatDateTime(backup.created_at)}: a safety backup comes first.`;
        setNote(msg);
        announce(msg);
      } else {
        await backupsApi.remove(store.id, backup.id);
        setItems((old) => (old ?? []).filter((x) => x.id !== backup.id));
        setTimeout(() => heading.current?.focus(), 0);
        const msg = `Backup of ${formatDateTime(backup.created_at)} deleted.`;
        setNote(msg);
        announce(msg);
      }
      if (kind === 'restore') closeConfirm();
      else {
        setConfirm(null);
        setTyped('');
      }
      load();
    } catch (err) {
      setActionError(err);
    } finally {
      setWorking(null);
    }
  }

  const ready = store.status === 'READY';
  const list = items ?? [];

  return (
    <section ref={section} className="card p-4 sm:p-5" aria-labelledby={`${id}-title`} data-testid="backups">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2
          id={`${id}-title`}
          ref={heading}
          tabIndex={-1}
          className="text-base font-semibold text-slate-900 focus:outline-none"
        >
          Backups
        </h2>
        <button
          type="button"
          className="btn-primary"
          disabled={!ready || active || !!working}
          onClick={takeNow}
          data-testid="backup-now"
        >
          {working === 'take' ? 'Queuing…' : active ? 'Backing up…' : 'Back up now'}
        </button>
      </div>
      <p className="mt-1 min-h-5 text-xs text-slate-600" data-testid="backups-note">
        {note || (!ready ? 'A backup can be taken, restored or deleted while the store is ready.' : '')}
      </p>

      {active && store.step ? (
        <div className="mt-2">
          <Progress step={store.step} progress={store.progress} label="Backup progress" />
        </div>
      ) : null}

      {cloned ? (
        <p className="mt-1 text-sm" data-testid="backup-cloned">
          <Link to={`/stores/${encodeURIComponent(cloned.store.id)}`} className="link">
            Open {cloned.store.name}
          </Link>
          , made from the backup of {cloned.when}.
        </p>
      ) : null}

      <ErrorNotice error={actionError} testId="backups-action-error" className={actionError ? 'mt-3' : ''} />
      <ErrorNotice error={error} testId="backups-error" className={error ? 'mt-3' : ''} />

      {items === null ? (
        <p className="mt-3 text-sm text-slate-500">Loading backups…</p>
      ) : list.length === 0 ? (
        <p className="mt-3 text-sm text-slate-600" data-testid="backups-none">
          No backups yet.
        </p>
      ) : (
        <ul className="mt-3 divide-y divide-slate-200 border-y border-slate-200" data-testid="backups-list">
          {list.map((b) => {
            const when = formatDateTime(b.created_at);
            const open = confirm?.backup.id === b.id ? confirm.kind : null;
            return (
              <li key={b.id} className="py-3 text-sm" data-testid={`backup-${b.id}`} data-status={b.status}>
                <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
                  <span className="font-medium text-slate-900">
                    <Time iso={b.created_at} relative={false} />
                  </span>
                  <span
                    className={`rounded px-1.5 py-0.5 text-xs font-medium ${STATUS_STYLE[b.status] ?? STATUS_STYLE.queued}`}
                    data-testid="backup-status"
                  >
                    {STATUS_TEXT[b.status] ?? b.status}
                  </span>
                  {b.kind === 'safety' ? (
                    <span
                      className="rounded bg-amber-50 px-1.5 py-0.5 text-xs font-medium text-amber-900"
                      data-testid="backup-safety"
                    >
                      Safety backup
                    </span>
                  ) : null}
                  <span className="text-xs text-slate-600" data-testid="backup-kind">
                    {kindText(b, list)}
                  </span>
                  {b.status === 'succeeded' ? (
                    <span className="text-xs text-slate-600 tabular-nums" data-testid="backup-size">
                      {formatBytes(b.size_bytes)}
                    </span>
                  ) : null}
                  {b.remote === 'copied' ? (
                    <span className="text-xs text-slate-600" data-testid="backup-remote">
                      Copied to S3
                    </span>
                  ) : null}
                </div>
                {b.remote === 'failed' ? (
                  <p className="mt-1 break-words text-xs text-red-900" data-testid="backup-remote">
                    Not copied to S3 (the backup on the host is good): {b.remote_reason || 'no reason given'}
                  </p>
                ) : null}
                {b.status === 'failed' ? (
                  <p className="mt-1 break-words whitespace-pre-wrap text-red-900" data-testid="backup-reason">
                    {b.reason || 'The daemon gave no reason.'}
                  </p>
                ) : null}
                {b.status === 'succeeded' ? (
                  <ul className="mt-1 flex flex-wrap gap-x-4 gap-y-1" aria-label={`Files of the backup of ${when}`}>
                    {filesOf(b).map((f) => (
                      <li key={f.name}>
                        <a
                          className="link break-all"
                          href={backupsApi.fileUrl(store.id, b.id, f.name)}
                          download={`${store.name}-${b.id}-${f.name}`}
                          data-testid={`backup-file-${f.name}`}
                        >
                          <span className="sr-only">Download </span>
                          {f.name}
                        </a>
                        {f.size != null ? (
                          <span className="ml-1 text-xs text-slate-600 tabular-nums">
                            {formatBytes(f.size)}
                            {f.raw != null ? ` (${formatBytes(f.raw)} unpacked)` : ''}
                          </span>
                        ) : null}
                      </li>
                    ))}
                  </ul>
                ) : null}
                {!ACTIVE.has(b.status) && !open && cloning?.id !== b.id ? (
                  <div className="mt-2 flex flex-wrap gap-2">
                    {b.status === 'succeeded' ? (
                      <button
                        type="button"
                        className="btn-secondary"
                        disabled={!ready || active || !!working}
                        onClick={() => {
                          opener.current = { backup: b.id, kind: 'restore' };
                          setActionError(null);
                          setConfirm({ kind: 'restore', backup: b });
                        }}
                        data-testid="backup-restore"
                      >
                        Restore…<span className="sr-only"> the backup of {when}</span>
                      </button>
                    ) : null}
                    {b.status === 'succeeded' ? (
                      <button
                        type="button"
                        className="btn-secondary"
                        disabled={!!working}
                        onClick={() => {
                          setConfirm(null);
                          setActionError(null);
                          setCloning(b);
                        }}
                        data-testid="backup-clone"
                      >
                        Create a store from this backup…<span className="sr-only"> of {when}</span>
                      </button>
                    ) : null}
                    <button
                      type="button"
                      className="btn-secondary"
                      disabled={active || !!working}
                      onClick={() => {
                        opener.current = { backup: b.id, kind: 'delete' };
                        setActionError(null);
                        setConfirm({ kind: 'delete', backup: b });
                      }}
                      data-testid="backup-delete"
                    >
                      Delete…<span className="sr-only"> the backup of {when}</span>
                    </button>
                  </div>
                ) : null}
                {cloning?.id === b.id ? (
                  <CloneForm
                    store={store}
                    backup={b}
                    when={when}
                    onDone={(made) => {
                      setCloning(null);
                      if (!made) return;
                      setCloned({ store: made, when });
                      const msg = `Store ${made.name} is being created from the backup of ${when}.`;
                      setNote(msg);
                      announce(msg);
                    }}
                  />
                ) : null}
                {open ? (
                  <form
                    onSubmit={confirmed}
                    onKeyDown={(e) => {
                      if (e.key === 'Escape') closeConfirm();
                    }}
                    className={`mt-2 space-y-2 rounded-md border p-3 ${open === 'restore' ? 'border-amber-300 bg-amber-50' : 'border-red-200 bg-red-50'}`}
                    data-testid={`backup-${open}-confirm`}
                  >
                    <p className="text-sm text-slate-900">
                      {open === 'restore'
                        ? `This puts the store back as it was on ${when}: orders, customers and files since then are replaced. A safety backup of the store as it is now is taken first.`
                        : `This removes the backup of ${when} and its files for good.`}{' '}
                      Type <strong className="font-mono">{store.name}</strong> to confirm.
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
                      data-testid="backup-confirm-input"
                    />
                    <div className="flex gap-2">
                      <button
                        type="submit"
                        className={`${open === 'restore' ? 'btn-primary' : 'btn-danger'} flex-1`}
                        disabled={typed !== store.name || !!working}
                        data-testid="backup-confirm-submit"
                      >
                        {open === 'restore'
                          ? working
                            ? 'Restoring…'
                            : 'Restore'
                          : working
                            ? 'Deleting…'
                            : 'Delete backup'}
                      </button>
                      <button type="button" className="btn-secondary" onClick={closeConfirm}>
                        Cancel
                      </button>
                    </div>
                  </form>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}

      <Schedule store={store} now={now} lastChange={items} />
    </section>
  );
}

// Asks for the new store's name; the daemon makes it from the backup (POST /stores with from_backup).
function CloneForm({ store, backup, when, onDone }) {
  const id = useId();
  const [name, setName] = useState('');
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const input = useRef(null);
  const problem = touched ? validateStoreName(name) : null;

  useEffect(() => {
    input.current?.focus();
  }, []);

  async function submit(e) {
    e.preventDefault();
    setTouched(true);
    if (validateStoreName(name)) {
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onDone(await backupsApi.clone(name, store.id, backup.id));
    } catch (err) {
      setError(err);
      input.current?.focus();
    } finally {
      setBusy(false);
    }
  }

  const describedBy = [`${id}-hint`, problem ? `${id}-error` : null].filter(Boolean).join(' ');
  return (
    <form
      onSubmit={submit}
      noValidate
      onKeyDown={(e) => {
        if (e.key === 'Escape') onDone(null);
      }}
      className="mt-2 space-y-2 rounded-md border border-sky-200 bg-sky-50 p-3"
      data-testid="backup-clone-form"
    >
      <p className="text-sm text-slate-900">
        A new store with the data of {store.name} as it was on {when}: its own address and new passwords. {store.name}{' '}
        itself does not change.
      </p>
      <label htmlFor={`${id}-name`} className="block text-sm font-medium text-slate-800">
        Name of the new store
      </label>
      <input
        ref={input}
        id={`${id}-name`}
        type="text"
        autoComplete="off"
        autoCapitalize="none"
        spellCheck={false}
        maxLength={NAME_MAX + 10}
        className="field"
        value={name}
        onChange={(e) => {
          setName(e.target.value);
          setError(null);
        }}
        onBlur={() => name && setTouched(true)}
        aria-invalid={problem ? true : undefined}
        aria-describedby={describedBy}
        data-testid="backup-clone-name"
      />
      <p id={`${id}-hint`} className="text-xs text-slate-600">
        Lowercase letters, digits and hyphens, up to {NAME_MAX} characters.
      </p>
      {problem ? (
        <p id={`${id}-error`} className="text-sm text-red-700" data-testid="backup-clone-name-error">
          {problem}
        </p>
      ) : null}
      <ErrorNotice error={error} testId="backup-clone-error" />
      <div className="flex gap-2">
        <button type="submit" className="btn-primary flex-1" disabled={busy} data-testid="backup-clone-submit">
          {busy ? 'Creating…' : 'Create store'}
        </button>
        <button type="button" className="btn-secondary" onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Schedule({ store, now, lastChange }) {
  const id = useId();
  const [sched, setSched] = useState(null);
  const [error, setError] = useState(null);
  const [choice, setChoice] = useState('');
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState('');

  const load = useCallback(async () => {
    try {
      const s = await backupsApi.schedule(store.id);
      setSched(s);
      setChoice(s.store_every_sec == null ? 'default' : String(s.store_every_sec));
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [store.id]);

  // Read again when the list changes: a backup moves the last and next times.
  const count = lastChange?.filter((b) => b.status === 'succeeded').length ?? 0;
  useEffect(() => {
    load();
  }, [load, count]);

  async function save(e) {
    e.preventDefault();
    setSaving(true);
    setError(null);
    setSaved('');
    try {
      const s = await backupsApi.setSchedule(store.id, choice === 'default' ? null : Number(choice));
      setSched(s);
      const msg = `Backup schedule saved: ${formatInterval(s.every_sec)}.`;
      setSaved(msg);
      announce(msg);
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  }

  const options = sched
    ? [
        ...new Set([
          ...INTERVALS.filter((s) => s >= sched.min_every_sec),
          ...(sched.store_every_sec ? [sched.store_every_sec] : []),
        ]),
      ].sort((a, b) => a - b)
    : [];
  const current = sched ? (sched.store_every_sec == null ? 'default' : String(sched.store_every_sec)) : '';

  return (
    <div className="mt-4" data-testid="backup-schedule">
      <h3 className="text-sm font-semibold text-slate-900">Schedule</h3>
      {!sched && !error ? <p className="mt-1 text-sm text-slate-500">Loading the schedule…</p> : null}
      {sched ? (
        <>
          <p className="mt-1 text-sm text-slate-700" data-testid="backup-schedule-summary">
            {sched.every_sec
              ? `Scheduled backups ${formatInterval(sched.every_sec)}${sched.store_every_sec == null ? " (the platform's default)" : ''}.`
              : `No scheduled backups${sched.store_every_sec == null ? " (the platform's default)" : ''}.`}{' '}
            Last good backup: {sched.last_backup_at ? <Time iso={sched.last_backup_at} now={now} /> : 'none'}.
            {sched.next_backup_at ? (
              <>
                {' '}
                Next: <Time iso={sched.next_backup_at} relative={false} />.
              </>
            ) : null}
          </p>
          <p className="mt-1 text-xs text-slate-600" data-testid="backup-retention">
            {retention(sched.keep)} Backups taken by hand are kept until deleted.
          </p>
          <form className="mt-2 flex flex-wrap items-end gap-2" onSubmit={save}>
            <div className="flex min-w-0 flex-col gap-1 text-sm">
              <label htmlFor={`${id}-every`} className="text-slate-700">
                Back up this store
              </label>
              <select
                id={`${id}-every`}
                className="field h-9 w-72 max-w-full"
                value={choice}
                onChange={(e) => setChoice(e.target.value)}
                data-testid="backup-schedule-every"
              >
                <option value="default">Platform default ({formatInterval(sched.default_every_sec)})</option>
                {options.map((s) => (
                  <option key={s} value={String(s)}>
                    {formatInterval(s).replace(/^every/, 'Every')}
                  </option>
                ))}
                <option value="0">Never on a schedule</option>
              </select>
            </div>
            <button
              type="submit"
              className="btn-secondary"
              disabled={saving || choice === current}
              data-testid="backup-schedule-save"
            >
              {saving ? 'Saving…' : 'Save'}
            </button>
          </form>
          {saved ? <p className="mt-1 text-xs text-slate-600">{saved}</p> : null}
        </>
      ) : null}
      <ErrorNotice error={error} testId="backup-schedule-error" className={error ? 'mt-2' : ''} />
    </div>
  );
}
