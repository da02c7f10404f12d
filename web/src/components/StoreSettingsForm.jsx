// SPDX-License-Identifier: Apache-2.0
// The store's own settings: shop title, currency, country and administrator
// e-mail. Saving stores them and redeploys the store's current chart version;
// the daemon checks them (and says what is wrong), the form only helps.
import { useEffect, useId, useState } from 'react';
import { stores as storesApi } from '../lib/api.js';
import { announce } from '../lib/announce.js';
import { SETTINGS_FIELDS as FIELDS } from '../lib/settings.js';
import ErrorNotice from './ErrorNotice.jsx';

export default function StoreSettingsForm({ store, busy, onApplied }) {
  const id = useId();
  const [saved, setSaved] = useState(null);
  const [values, setValues] = useState({});
  const [loadFailed, setLoadFailed] = useState(false);
  const [working, setWorking] = useState(false);
  const [error, setError] = useState(null);

  useEffect(() => {
    const ctl = new AbortController();
    storesApi
      .settings(store.id, { signal: ctl.signal })
      .then((s) => {
        setSaved(s ?? {});
        setValues(s ?? {});
      })
      .catch((err) => {
        if (err?.name !== 'AbortError') setLoadFailed(true);
      });
    return () => ctl.abort();
  }, [store.id]);

  // Only what changed is sent; a field emptied returns to the chart's default.
  const changes = {};
  for (const { key } of FIELDS) {
    const now = (values[key] ?? '').trim();
    if (now !== (saved?.[key] ?? '')) changes[key] = now === '' ? null : now;
  }
  const changed = Object.keys(changes).length > 0;
  const stateAllows = store.status === 'READY' || store.status === 'FAILED';

  async function save(e) {
    e.preventDefault();
    if (!changed) return;
    setWorking(true);
    setError(null);
    try {
      const s = await storesApi.changeSettings(store.id, changes);
      const next = { ...saved };
      for (const [k, v] of Object.entries(changes)) {
        if (v === null) delete next[k];
        else next[k] = v;
      }
      setSaved(next);
      announce(`Settings of store ${store.name} saved; redeploying it.`);
      onApplied?.(s);
    } catch (err) {
      setError(err);
    } finally {
      setWorking(false);
    }
  }

  return (
    <section className="card p-4 sm:p-5" aria-labelledby={`${id}-heading`} data-testid="store-settings">
      <h2 id={`${id}-heading`} className="text-base font-semibold text-slate-900">
        Settings
      </h2>
      {loadFailed ? (
        <p className="mt-1 text-sm text-slate-700" data-testid="settings-unavailable">
          The settings could not be read; reload the page to try again.
        </p>
      ) : (
        <form className="mt-2 space-y-3" onSubmit={save} noValidate>
          {FIELDS.map((f) => (
            <div key={f.key}>
              <label htmlFor={`${id}-${f.key}`} className="block text-sm font-medium text-slate-800">
                {f.label}
              </label>
              <input
                id={`${id}-${f.key}`}
                className="field w-full"
                type={f.type ?? 'text'}
                value={values[f.key] ?? ''}
                placeholder={f.placeholder}
                maxLength={f.maxLength}
                pattern={f.pattern}
                aria-describedby={f.hint ? `${id}-${f.key}-hint` : undefined}
                disabled={saved === null}
                onChange={(e) => setValues({ ...values, [f.key]: e.target.value })}
                data-testid={`settings-${f.key}`}
              />
              {f.hint ? (
                <p id={`${id}-${f.key}-hint`} className="mt-0.5 text-xs text-slate-600">
                  {f.hint}
                </p>
              ) : null}
            </div>
          ))}
          <button
            type="submit"
            className="btn-secondary w-full"
            disabled={!changed || !stateAllows || busy || working}
            data-testid="settings-save"
          >
            {working ? 'Saving…' : 'Save and redeploy'}
          </button>
          <p className="text-xs text-slate-600" data-testid="settings-note">
            {!stateAllows || busy
              ? 'Settings can be changed when the store is ready and no operation runs.'
              : 'Saving redeploys the store with its current chart version; empty fields use the chart’s defaults.'}
          </p>
          <ErrorNotice error={error} testId="settings-error" />
        </form>
      )}
    </section>
  );
}
