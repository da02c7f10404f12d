// SPDX-License-Identifier: Apache-2.0
// Admins: give a store to another account. The new owner sees it at once; the
// old one no longer does.
import { useEffect, useId, useState } from 'react';
import { accounts as accountsApi, stores as storesApi } from '../lib/api.js';
import { announce } from '../lib/announce.js';
import ErrorNotice from './ErrorNotice.jsx';

export default function TransferCard({ store, onTransferred }) {
  const id = useId();
  const [names, setNames] = useState(null);
  const [to, setTo] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  useEffect(() => {
    accountsApi
      .list()
      .then((r) => setNames((r?.items ?? []).filter((a) => !a.disabled).map((a) => a.name)))
      .catch((err) => {
        setNames([]);
        setError(err);
      });
  }, []);

  const choices = (names ?? []).filter((n) => n !== store.owner);
  useEffect(() => {
    if (!choices.includes(to)) setTo(choices[0] ?? '');
  }, [choices.join(','), to]);

  async function transfer() {
    setBusy(true);
    setError(null);
    try {
      const s = await storesApi.transfer(store.id, to);
      setConfirming(false);
      announce(`Store ${store.name} now belongs to ${s?.owner ?? to}.`);
      onTransferred(s);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card p-4 sm:p-5" aria-labelledby={`${id}-title`} data-testid="transfer">
      <h2 id={`${id}-title`} className="text-base font-semibold text-slate-900">
        Owner
      </h2>
      <p className="mt-1 text-sm text-slate-700" data-testid="store-owner">
        Owned by <strong>{store.owner ?? '—'}</strong>.
      </p>
      <form
        className="mt-3 space-y-1"
        onSubmit={(e) => {
          e.preventDefault();
          if (to) setConfirming(true);
        }}
      >
        <label htmlFor={`${id}-to`} className="block text-sm font-medium text-slate-800">
          Transfer to account
        </label>
        <div className="flex gap-2">
          <select
            id={`${id}-to`}
            className="field min-w-0 flex-1"
            value={to}
            onChange={(e) => {
              setTo(e.target.value);
              setConfirming(false);
            }}
            disabled={!choices.length}
            data-testid="transfer-to"
          >
            {!choices.length ? <option value="">{names ? 'No other account' : 'Loading…'}</option> : null}
            {choices.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
          <button type="submit" className="btn-secondary" disabled={!to || busy} data-testid="transfer-submit">
            Transfer…
          </button>
        </div>
      </form>
      {confirming ? (
        <div
          className="mt-3 space-y-2 rounded-md border border-amber-300 bg-amber-50 p-3"
          role="group"
          aria-label="Confirm the transfer"
          data-testid="transfer-confirm"
        >
          <p className="text-sm text-amber-950">
            Give <strong>{store.name}</strong> to <strong>{to}</strong>? {store.owner ?? 'The current owner'} will no
            longer see it.
          </p>
          <div className="flex gap-2">
            <button
              type="button"
              className="btn-primary"
              disabled={busy}
              onClick={transfer}
              data-testid="transfer-confirm-submit"
              autoFocus
            >
              {busy ? 'Transferring…' : `Transfer to ${to}`}
            </button>
            <button type="button" className="btn-secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      <ErrorNotice error={error} testId="transfer-error" className={error ? 'mt-3' : ''} />
    </section>
  );
}
