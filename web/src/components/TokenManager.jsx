// SPDX-License-Identifier: Apache-2.0
// The tokens of one account: list, create (the secret shown once), revoke with
// confirmation. Used for the signed-in account (Tokens page) and by admins for
// any account (Accounts page), with the matching API calls passed in.
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { announce } from '../lib/announce.js';
import ErrorNotice from './ErrorNotice.jsx';
import SecretOnce from './SecretOnce.jsx';
import Time from './Time.jsx';

const EXPIRY = [
  ['', 'Never'],
  [String(24 * 3600), '1 day'],
  [String(30 * 24 * 3600), '30 days'],
  [String(90 * 24 * 3600), '90 days'],
  [String(365 * 24 * 3600), '1 year'],
];

function tokenState(t) {
  if (t.revoked_at) return ['Revoked', 'text-slate-500'];
  if (t.expired) return ['Expired', 'text-amber-800'];
  return ['Active', 'text-emerald-800'];
}

export default function TokenManager({ api, account, current, headingLevel = 2 }) {
  const id = useId();
  const [items, setItems] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [secret, setSecret] = useState(null);
  const [confirming, setConfirming] = useState(null);
  const nameRef = useRef(null);
  const H = `h${headingLevel}`;

  const load = useCallback(async () => {
    try {
      const r = await api.list();
      setItems(r?.items ?? []);
      setLoadError(null);
    } catch (err) {
      setLoadError(err);
    }
  }, [api]);

  useEffect(() => {
    load();
  }, [load]);

  async function create(e) {
    e.preventDefault();
    if (!name.trim()) {
      nameRef.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    setSecret(null);
    try {
      const body = { name: name.trim() };
      if (expires) body.expires_in = Number(expires);
      const r = await api.create(body);
      setSecret(r);
      setName('');
      announce(`Token ${r.name} created. Copy it now: you will not see it again.`);
      load();
    } catch (err) {
      setError(err);
      nameRef.current?.focus();
    } finally {
      setBusy(false);
    }
  }

  async function revoke(t) {
    setBusy(true);
    setError(null);
    try {
      await api.revoke(t.name);
      setConfirming(null);
      announce(`Token ${t.name} revoked.`);
      load();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="space-y-4">
      <section className="card p-4 sm:p-5" aria-labelledby={`${id}-new`}>
        <H id={`${id}-new`} className="text-base font-semibold text-slate-900">
          {account ? `New token for ${account}` : 'New token'}
        </H>
        <form onSubmit={create} noValidate className="mt-3 flex flex-col gap-3 sm:flex-row sm:items-end">
          <div className="min-w-0 flex-1">
            <label htmlFor={`${id}-name`} className="block text-sm font-medium text-slate-800">
              Token name
            </label>
            <input
              ref={nameRef}
              id={`${id}-name`}
              className="field mt-1"
              autoComplete="off"
              spellCheck={false}
              placeholder="ci"
              value={name}
              onChange={(e) => setName(e.target.value)}
              data-testid="token-name"
            />
          </div>
          <div className="sm:w-40">
            <label htmlFor={`${id}-expires`} className="block text-sm font-medium text-slate-800">
              Expires after
            </label>
            <select
              id={`${id}-expires`}
              className="field mt-1"
              value={expires}
              onChange={(e) => setExpires(e.target.value)}
              data-testid="token-expires"
            >
              {EXPIRY.map(([v, label]) => (
                <option key={v} value={v}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="btn-primary" disabled={busy} data-testid="token-create">
            {busy ? 'Working…' : 'Create token'}
          </button>
        </form>
        <ErrorNotice error={error} testId="token-error" className="mt-3" />
        {secret ? (
          <div className="mt-3">
            <SecretOnce
              secret={secret.token}
              name={secret.name}
              account={account}
              onDone={() => {
                setSecret(null);
                nameRef.current?.focus();
              }}
            />
          </div>
        ) : null}
      </section>

      <section className="card" aria-labelledby={`${id}-list`}>
        <div className="border-b border-slate-200 px-4 py-3 sm:px-5">
          <H id={`${id}-list`} className="text-base font-semibold text-slate-900">
            {account ? `Tokens of ${account}` : 'Your tokens'}
          </H>
        </div>
        {loadError ? <ErrorNotice error={loadError} className="m-4" /> : null}
        {!items ? (
          <p className="px-5 py-4 text-sm text-slate-500">{loadError ? '' : 'Loading tokens…'}</p>
        ) : items.length === 0 ? (
          <p className="px-5 py-4 text-sm text-slate-600">No tokens yet.</p>
        ) : (
          <div className="overflow-x-auto" tabIndex={0} role="region" aria-label="Tokens table">
            <table className="w-full text-left text-sm" data-testid="token-table">
              <thead className="text-xs text-slate-500 uppercase">
                <tr>
                  <th scope="col" className="px-4 py-2 font-medium sm:pl-5">
                    Name
                  </th>
                  <th scope="col" className="px-2 py-2 font-medium">
                    State
                  </th>
                  <th scope="col" className="px-2 py-2 font-medium">
                    Created
                  </th>
                  <th scope="col" className="px-2 py-2 font-medium">
                    Expires
                  </th>
                  <th scope="col" className="px-2 py-2 font-medium">
                    Last used
                  </th>
                  <th scope="col" className="px-2 py-2 font-medium sm:pr-5">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {items.map((t) => {
                  const [state, color] = tokenState(t);
                  const live = state === 'Active';
                  return (
                    <tr key={t.name} data-testid={`token-row-${t.name}`} data-state={state.toLowerCase()}>
                      <td className="px-4 py-2 font-medium sm:pl-5">
                        {t.name}
                        {current && t.name === current ? (
                          <span className="ml-1 text-xs font-normal text-slate-500">(this session)</span>
                        ) : null}
                      </td>
                      <td className={`px-2 py-2 ${color}`}>{state}</td>
                      <td className="px-2 py-2 whitespace-nowrap">
                        <Time iso={t.created_at} relative={false} />
                      </td>
                      <td className="px-2 py-2 whitespace-nowrap">
                        {t.expires_at ? <Time iso={t.expires_at} relative={false} /> : 'never'}
                      </td>
                      <td className="px-2 py-2 whitespace-nowrap">
                        {t.last_used_at ? <Time iso={t.last_used_at} /> : 'never'}
                      </td>
                      <td className="px-2 py-2 text-right sm:pr-5">
                        {!live ? null : confirming === t.name ? (
                          <RevokeConfirm
                            token={t}
                            busy={busy}
                            own={current && t.name === current}
                            onConfirm={() => revoke(t)}
                            onCancel={() => setConfirming(null)}
                          />
                        ) : (
                          <button
                            type="button"
                            className="btn-secondary h-8 text-xs"
                            onClick={() => {
                              setError(null);
                              setConfirming(t.name);
                            }}
                            data-testid={`token-revoke-${t.name}`}
                          >
                            Revoke…
                          </button>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

function RevokeConfirm({ token, busy, own, onConfirm, onCancel }) {
  const ref = useRef(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <div
      className="inline-flex flex-wrap items-center justify-end gap-2 text-left"
      role="group"
      aria-label={`Revoke token ${token.name}?`}
      onKeyDown={(e) => e.key === 'Escape' && onCancel()}
      data-testid="revoke-confirm"
    >
      <span className="text-xs text-red-900">
        {own ? 'This signs you out. ' : ''}Programs using it are refused at once.
      </span>
      <button
        ref={ref}
        type="button"
        className="btn-danger h-8 text-xs"
        disabled={busy}
        onClick={onConfirm}
        data-testid="revoke-confirm-submit"
      >
        Revoke {token.name}
      </button>
      <button type="button" className="btn-secondary h-8 text-xs" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
