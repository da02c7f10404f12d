// SPDX-License-Identifier: Apache-2.0
import { useId, useRef, useState } from 'react';
import { ApiError, stores } from '../lib/api.js';
import { announce } from '../lib/announce.js';
import { NAME_MAX, validateStoreName } from '../lib/name.js';
import { useCountdown } from '../lib/hooks.js';
import { SETTINGS_FIELDS } from '../lib/settings.js';
import ErrorNotice from './ErrorNotice.jsx';

export default function CreateStoreForm({ onCreated }) {
  const [name, setName] = useState('');
  const [engine, setEngine] = useState('woocommerce');
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [apiError, setApiError] = useState(null);
  const [created, setCreated] = useState(null);
  const [settings, setSettings] = useState({});
  const inputRef = useRef(null);
  const id = useId();
  const wait = useCountdown(apiError instanceof ApiError ? apiError.retryAfter : null);

  const localError = touched ? validateStoreName(name) : null;

  async function submit(e) {
    e.preventDefault();
    setTouched(true);
    const problem = validateStoreName(name);
    if (problem) {
      inputRef.current?.focus();
      return;
    }
    setBusy(true);
    setApiError(null);
    setCreated(null);
    try {
      // Only the settings given; none at all leaves every one at the chart's default.
      const given = {};
      for (const { key } of SETTINGS_FIELDS) if ((settings[key] ?? '').trim()) given[key] = settings[key].trim();
      const store = await stores.create(name, engine, Object.keys(given).length ? given : undefined);
      setCreated(store?.name ?? name);
      announce(`Store ${store?.name ?? name} is being created.`);
      setName('');
      setSettings({});
      setTouched(false);
      onCreated?.(store);
    } catch (err) {
      setApiError(err);
      inputRef.current?.focus();
    } finally {
      setBusy(false);
    }
  }

  const describedBy = [`${id}-hint`, localError ? `${id}-error` : null].filter(Boolean).join(' ');

  return (
    <section aria-labelledby={`${id}-title`} className="card p-4 sm:p-5">
      <h2 id={`${id}-title`} className="text-base font-semibold text-slate-900">
        Create a store
      </h2>
      <form onSubmit={submit} noValidate data-testid="create-form" className="mt-3">
        <div className="flex flex-col gap-3 sm:flex-row sm:items-start">
          <div className="min-w-0 flex-1">
            <label htmlFor={`${id}-name`} className="block text-sm font-medium text-slate-800">
              Store name
            </label>
            <input
              ref={inputRef}
              id={`${id}-name`}
              name="name"
              type="text"
              autoComplete="off"
              autoCapitalize="none"
              spellCheck={false}
              maxLength={NAME_MAX + 10}
              placeholder="shop1"
              value={name}
              onChange={(e) => {
                setName(e.target.value);
                if (apiError && !(apiError instanceof ApiError && apiError.retryAfter)) setApiError(null);
                setCreated(null);
              }}
              onBlur={() => name && setTouched(true)}
              aria-invalid={localError ? true : undefined}
              aria-describedby={describedBy}
              className="field mt-1"
              data-testid="create-name"
            />
            <p id={`${id}-hint`} className="mt-1 text-xs text-slate-600">
              Lowercase letters, digits and hyphens; starts with a letter, ends with a letter or digit; up to {NAME_MAX}{' '}
              characters.
            </p>
            {localError ? (
              <p id={`${id}-error`} className="mt-1 text-sm text-red-700" data-testid="create-name-error">
                {localError}
              </p>
            ) : null}
          </div>
          <div className="sm:w-44">
            <label htmlFor={`${id}-engine`} className="block text-sm font-medium text-slate-800">
              Engine
            </label>
            <select
              id={`${id}-engine`}
              name="engine"
              value={engine}
              onChange={(e) => setEngine(e.target.value)}
              className="field mt-1"
            >
              <option value="woocommerce">WooCommerce</option>
            </select>
          </div>
          <div className="sm:pt-6">
            <button
              type="submit"
              className="btn-primary w-full sm:w-auto"
              disabled={busy || wait > 0}
              data-testid="create-submit"
            >
              {busy ? 'Creating…' : 'Create store'}
            </button>
          </div>
        </div>
        <details className="mt-3 text-sm" data-testid="create-settings">
          <summary className="cursor-pointer font-medium text-slate-800">Shop settings (optional)</summary>
          <p className="mt-1 text-xs text-slate-600">
            Empty fields use the chart’s defaults; all of them can be changed later on the store’s page.
          </p>
          <div className="mt-2 grid gap-3 sm:grid-cols-2">
            {SETTINGS_FIELDS.map((f) => (
              <div key={f.key}>
                <label htmlFor={`${id}-set-${f.key}`} className="block text-sm font-medium text-slate-800">
                  {f.label}
                </label>
                <input
                  id={`${id}-set-${f.key}`}
                  className="field mt-1"
                  type={f.type ?? 'text'}
                  value={settings[f.key] ?? ''}
                  placeholder={f.placeholder}
                  maxLength={f.maxLength}
                  pattern={f.pattern}
                  autoComplete="off"
                  aria-describedby={f.hint ? `${id}-set-${f.key}-hint` : undefined}
                  onChange={(e) => setSettings({ ...settings, [f.key]: e.target.value })}
                  data-testid={`create-settings-${f.key}`}
                />
                {f.hint ? (
                  <p id={`${id}-set-${f.key}-hint`} className="mt-0.5 text-xs text-slate-600">
                    {f.hint}
                  </p>
                ) : null}
              </div>
            ))}
          </div>
        </details>
        <ErrorNotice error={apiError} testId="create-error" className="mt-3" />
        {created ? (
          <p role="status" className="mt-3 text-sm text-emerald-800">
            Creating <strong>{created}</strong>. Its progress shows in the list below.
          </p>
        ) : null}
      </form>
    </section>
  );
}
