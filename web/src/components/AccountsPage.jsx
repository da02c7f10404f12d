// SPDX-License-Identifier: Apache-2.0
// Admins: every account with its role, state, usage and limits; create one,
// disable or enable it, set its limits, and issue or revoke its tokens.
import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { accounts as accountsApi } from '../lib/api.js';
import { announce } from '../lib/announce.js';
import ErrorNotice from './ErrorNotice.jsx';
import PageHeading from './PageHeading.jsx';
import Time from './Time.jsx';
import TokenManager from './TokenManager.jsx';

const limitText = (v) => (v == null ? 'default' : String(v));

export default function AccountsPage() {
  const [items, setItems] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [selected, setSelected] = useState(null);

  const load = useCallback(async () => {
    try {
      const r = await accountsApi.list();
      setItems(r?.items ?? []);
      setLoadError(null);
    } catch (err) {
      setLoadError(err);
    }
  }, []);

  useEffect(() => {
    load();
  }, [load]);

  const chosen = items?.find((a) => a.name === selected) ?? null;

  return (
    <div className="space-y-4" data-testid="accounts-page">
      <div>
        <PageHeading title="Accounts" />
        <p className="mt-1 text-sm text-slate-600">
          Tenants see and manage only their own stores; admins see every store and this page.
        </p>
      </div>

      <CreateAccount
        onCreated={(a) => {
          load();
          setSelected(a.name);
        }}
      />

      <section className="card" aria-labelledby="accounts-list-title">
        <div className="border-b border-slate-200 px-4 py-3 sm:px-5">
          <h2 id="accounts-list-title" className="text-base font-semibold text-slate-900">
            All accounts
          </h2>
          <p className="text-sm text-slate-600" aria-live="polite">
            {items ? `${items.length} ${items.length === 1 ? 'account' : 'accounts'}` : 'Loading…'}
          </p>
        </div>
        {loadError ? (
          <div className="flex flex-wrap items-start gap-3 px-4 py-3 sm:px-5">
            <ErrorNotice error={loadError} className="flex-1" />
            <button type="button" className="btn-secondary" onClick={load}>
              Try again
            </button>
          </div>
        ) : null}
        {items?.length ? (
          <div className="overflow-x-auto" tabIndex={0} role="region" aria-label="Accounts table">
            <table className="w-full text-left text-sm" data-testid="accounts-table">
              <thead className="text-xs text-slate-500 uppercase">
                <tr>
                  <th scope="col" className="px-4 py-2 font-medium sm:pl-5">
                    Name
                  </th>
                  <th scope="col" className="px-2 py-2 font-medium">
                    Role
                  </th>
                  <th scope="col" className="px-2 py-2 font-medium">
                    State
                  </th>
                  <th scope="col" className="px-2 py-2 text-right font-medium">
                    Stores
                  </th>
                  <th scope="col" className="px-2 py-2 text-right font-medium">
                    Tokens
                  </th>
                  <th scope="col" className="px-2 py-2 font-medium">
                    Limits
                  </th>
                  <th scope="col" className="px-2 py-2 font-medium">
                    Created
                  </th>
                  <th scope="col" className="px-2 py-2 font-medium sm:pr-5">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {items.map((a) => (
                  <tr
                    key={a.name}
                    data-testid={`account-row-${a.name}`}
                    data-disabled={a.disabled ? 'true' : 'false'}
                    className={a.name === selected ? 'bg-sky-50' : ''}
                  >
                    <th scope="row" className="px-4 py-2 font-medium sm:pl-5">
                      {a.name}
                    </th>
                    <td className="px-2 py-2">{a.role}</td>
                    <td className={`px-2 py-2 ${a.disabled ? 'font-medium text-red-800' : 'text-emerald-800'}`}>
                      {a.disabled ? 'Disabled' : 'Active'}
                    </td>
                    <td className="px-2 py-2 text-right tabular-nums">{a.stores ?? 0}</td>
                    <td className="px-2 py-2 text-right tabular-nums">{a.tokens ?? 0}</td>
                    <td className="px-2 py-2 text-xs whitespace-nowrap text-slate-700">
                      {a.max_stores == null && a.creates_per_hour == null && a.role === 'admin' ? (
                        'none'
                      ) : (
                        <>
                          stores {limitText(a.max_stores)} · creates/h {limitText(a.creates_per_hour)}
                        </>
                      )}
                    </td>
                    <td className="px-2 py-2 whitespace-nowrap">
                      <Time iso={a.created_at} relative={false} />
                    </td>
                    <td className="px-2 py-2 text-right sm:pr-5">
                      <button
                        type="button"
                        className="btn-secondary h-8 text-xs"
                        aria-label={`Manage ${a.name}`}
                        aria-expanded={a.name === selected}
                        aria-controls="account-panel"
                        onClick={() => setSelected(a.name === selected ? null : a.name)}
                        data-testid={`account-manage-${a.name}`}
                      >
                        Manage
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : items ? (
          <p className="px-5 py-4 text-sm text-slate-600">No accounts yet.</p>
        ) : null}
      </section>

      {chosen ? (
        <AccountPanel key={chosen.name} account={chosen} onChanged={load} onClose={() => setSelected(null)} />
      ) : null}
    </div>
  );
}

/** "" → null (the configured default); otherwise a whole number ≥ 0, or an error sentence. */
function parseLimit(text, what) {
  const t = text.trim();
  if (t === '') return { value: null };
  if (!/^\d+$/.test(t)) return { error: `${what} must be a whole number, or empty for the default.` };
  return { value: Number(t) };
}

function LimitFields({ id, maxStores, setMaxStores, perHour, setPerHour }) {
  return (
    <>
      <div className="sm:w-36">
        <label htmlFor={`${id}-max`} className="block text-sm font-medium text-slate-800">
          Max stores
        </label>
        <input
          id={`${id}-max`}
          inputMode="numeric"
          className="field mt-1"
          placeholder="default"
          value={maxStores}
          onChange={(e) => setMaxStores(e.target.value)}
          data-testid="limit-max-stores"
        />
      </div>
      <div className="sm:w-36">
        <label htmlFor={`${id}-hour`} className="block text-sm font-medium text-slate-800">
          Creates per hour
        </label>
        <input
          id={`${id}-hour`}
          inputMode="numeric"
          className="field mt-1"
          placeholder="default"
          value={perHour}
          onChange={(e) => setPerHour(e.target.value)}
          data-testid="limit-creates-per-hour"
        />
      </div>
    </>
  );
}

function CreateAccount({ onCreated }) {
  const id = useId();
  const [name, setName] = useState('');
  const [role, setRole] = useState('tenant');
  const [maxStores, setMaxStores] = useState('');
  const [perHour, setPerHour] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const nameRef = useRef(null);

  async function submit(e) {
    e.preventDefault();
    setDone(null);
    const m = parseLimit(maxStores, 'Max stores');
    const h = parseLimit(perHour, 'Creates per hour');
    const problem = !name.trim() ? 'Give the account a name.' : (m.error ?? h.error);
    if (problem) {
      setError(new Error(problem));
      return;
    }
    const body = { name: name.trim(), role };
    if (m.value != null) body.max_stores = m.value;
    if (h.value != null) body.creates_per_hour = h.value;
    setBusy(true);
    setError(null);
    try {
      const a = await accountsApi.create(body);
      setDone(a.name);
      announce(`Account ${a.name} created.`);
      setName('');
      setMaxStores('');
      setPerHour('');
      onCreated(a);
    } catch (err) {
      setError(err);
      nameRef.current?.focus();
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card p-4 sm:p-5" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="text-base font-semibold text-slate-900">
        Create an account
      </h2>
      <form onSubmit={submit} noValidate className="mt-3 flex flex-col gap-3 sm:flex-row sm:items-end">
        <div className="min-w-0 flex-1">
          <label htmlFor={`${id}-name`} className="block text-sm font-medium text-slate-800">
            Account name
          </label>
          <input
            ref={nameRef}
            id={`${id}-name`}
            className="field mt-1"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            placeholder="alice"
            value={name}
            onChange={(e) => setName(e.target.value)}
            data-testid="account-name"
          />
        </div>
        <div className="sm:w-32">
          <label htmlFor={`${id}-role`} className="block text-sm font-medium text-slate-800">
            Role
          </label>
          <select
            id={`${id}-role`}
            className="field mt-1"
            value={role}
            onChange={(e) => setRole(e.target.value)}
            data-testid="account-role"
          >
            <option value="tenant">tenant</option>
            <option value="admin">admin</option>
          </select>
        </div>
        <LimitFields id={id} {...{ maxStores, setMaxStores, perHour, setPerHour }} />
        <button type="submit" className="btn-primary" disabled={busy} data-testid="account-create">
          {busy ? 'Creating…' : 'Create account'}
        </button>
      </form>
      <ErrorNotice error={error} testId="account-create-error" className="mt-3" />
      {done ? (
        <p role="status" className="mt-3 text-sm text-emerald-800">
          Account <strong>{done}</strong> created. Issue it a token below so it can sign in.
        </p>
      ) : null}
    </section>
  );
}

function AccountPanel({ account: a, onChanged, onClose }) {
  const id = useId();
  const heading = useRef(null);
  const [maxStores, setMaxStores] = useState(a.max_stores == null ? '' : String(a.max_stores));
  const [perHour, setPerHour] = useState(a.creates_per_hour == null ? '' : String(a.creates_per_hour));
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [confirmDisable, setConfirmDisable] = useState(false);
  const tokenApi = useMemo(
    () => ({
      list: () => accountsApi.tokens(a.name),
      create: (body) => accountsApi.createToken(a.name, body),
      revoke: (token) => accountsApi.revokeToken(a.name, token),
    }),
    [a.name],
  );

  useEffect(() => {
    heading.current?.focus();
  }, []);

  async function patch(kind, body, message) {
    setBusy(kind);
    setError(null);
    try {
      await accountsApi.update(a.name, body);
      announce(message);
      setConfirmDisable(false);
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  function saveLimits(e) {
    e.preventDefault();
    const m = parseLimit(maxStores, 'Max stores');
    const h = parseLimit(perHour, 'Creates per hour');
    if (m.error || h.error) {
      setError(new Error(m.error ?? h.error));
      return;
    }
    patch('limits', { max_stores: m.value, creates_per_hour: h.value }, `Limits of ${a.name} saved.`);
  }

  return (
    <section
      id="account-panel"
      className="card space-y-4 p-4 sm:p-5"
      aria-labelledby={`${id}-title`}
      data-testid="account-panel"
    >
      <div className="flex items-baseline justify-between gap-2">
        <h2
          ref={heading}
          tabIndex={-1}
          id={`${id}-title`}
          className="text-lg font-semibold text-slate-900 focus:outline-none"
        >
          Account {a.name}
        </h2>
        <button type="button" className="btn-secondary h-8 text-xs" onClick={onClose}>
          Close
        </button>
      </div>

      <form onSubmit={saveLimits} noValidate className="flex flex-col gap-3 sm:flex-row sm:items-end">
        <LimitFields id={id} {...{ maxStores, setMaxStores, perHour, setPerHour }} />
        <button type="submit" className="btn-secondary" disabled={!!busy} data-testid="limits-save">
          {busy === 'limits' ? 'Saving…' : 'Save limits'}
        </button>
        <p className="text-xs text-slate-600 sm:pb-2">Empty means the platform default.</p>
      </form>

      <div className="border-t border-slate-200 pt-4">
        {a.disabled ? (
          <button
            type="button"
            className="btn-secondary"
            disabled={!!busy}
            onClick={() => patch('state', { disabled: false }, `Account ${a.name} enabled.`)}
            data-testid="account-enable"
          >
            {busy === 'state' ? 'Enabling…' : 'Enable account'}
          </button>
        ) : confirmDisable ? (
          <div
            className="space-y-2 rounded-md border border-red-200 bg-red-50 p-3"
            role="group"
            aria-label={`Disable ${a.name}?`}
            data-testid="disable-confirm"
          >
            <p className="text-sm text-red-900">
              Disabling <strong>{a.name}</strong> stops its tokens, sessions and live streams at once. Its stores keep
              running.
            </p>
            <div className="flex gap-2">
              <button
                type="button"
                className="btn-danger"
                disabled={!!busy}
                onClick={() => patch('state', { disabled: true }, `Account ${a.name} disabled.`)}
                data-testid="disable-confirm-submit"
              >
                {busy === 'state' ? 'Disabling…' : `Disable ${a.name}`}
              </button>
              <button type="button" className="btn-secondary" onClick={() => setConfirmDisable(false)}>
                Cancel
              </button>
            </div>
          </div>
        ) : (
          <button
            type="button"
            className="btn-secondary text-red-800"
            onClick={() => setConfirmDisable(true)}
            data-testid="account-disable"
          >
            Disable account…
          </button>
        )}
      </div>
      <ErrorNotice error={error} testId="account-error" />

      <TokenManager api={tokenApi} account={a.name} headingLevel={3} />
    </section>
  );
}
