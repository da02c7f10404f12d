// SPDX-License-Identifier: Apache-2.0
// The store's own domains: more hosts its Ingress serves (each with its own
// certificate when stores are https), and which one is primary, the host the
// shop's URLs use. Each change is kept at once and applied by a redeploy; the
// daemon checks the names (and says what is wrong), the form only helps.
import { useCallback, useEffect, useId, useState } from 'react';
import { stores as storesApi } from '../lib/api.js';
import { announce } from '../lib/announce.js';
import ErrorNotice from './ErrorNotice.jsx';

export default function StoreDomains({ store, busy, onApplied }) {
  const id = useId();
  const [domains, setDomains] = useState(null);
  const [loadFailed, setLoadFailed] = useState(false);
  const [name, setName] = useState('');
  const [working, setWorking] = useState(false);
  const [error, setError] = useState(null);

  const load = useCallback(
    (signal) =>
      storesApi
        .domains(store.id, { signal })
        .then((d) => {
          setDomains(d ?? { items: [], primary: null });
          setLoadFailed(false);
        })
        .catch((err) => {
          if (err?.name !== 'AbortError') setLoadFailed(true);
        }),
    [store.id],
  );

  useEffect(() => {
    const ctl = new AbortController();
    load(ctl.signal);
    return () => ctl.abort();
  }, [load]);

  const stateAllows = (store.status === 'READY' || store.status === 'FAILED') && !busy;
  const disabled = !stateAllows || working || domains === null;

  async function change(what, call) {
    setWorking(true);
    setError(null);
    try {
      const s = await call();
      announce(`${what}; redeploying store ${store.name}.`);
      onApplied?.(s);
      await load();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setWorking(false);
    }
  }

  async function add(e) {
    e.preventDefault();
    const domain = name.trim();
    if (!domain) return;
    if (await change(`Domain ${domain} added`, () => storesApi.addDomain(store.id, domain))) setName('');
  }

  return (
    <section className="card p-4 sm:p-5" aria-labelledby={`${id}-heading`} data-testid="store-domains">
      <h2 id={`${id}-heading`} className="text-base font-semibold text-slate-900">
        Domains
      </h2>
      {loadFailed ? (
        <p className="mt-1 text-sm text-slate-700" data-testid="domains-unavailable">
          The domains could not be read; reload the page to try again.
        </p>
      ) : (
        <>
          <p className="mt-1 text-sm text-slate-700" data-testid="domains-primary">
            {domains?.primary ? `The shop's URLs use ${domains.primary}.` : 'The shop’s URLs use the store’s own host.'}
          </p>
          {domains?.items?.length ? (
            <ul className="mt-2 divide-y divide-slate-200" data-testid="domains-list">
              {domains.items.map((d) => (
                <li key={d.domain} className="flex flex-wrap items-center gap-2 py-2" data-testid="domain-row">
                  <span
                    className="min-w-[12rem] flex-1 break-all font-mono text-sm text-slate-900"
                    data-testid="domain-name"
                  >
                    {d.domain}
                  </span>
                  {d.primary ? (
                    <span className="text-xs font-medium text-emerald-800" data-testid="domain-primary-badge">
                      primary
                    </span>
                  ) : (
                    <button
                      type="button"
                      className="btn-secondary"
                      disabled={disabled}
                      aria-label={`Make ${d.domain} the primary domain`}
                      onClick={() =>
                        change(`${d.domain} is the primary domain`, () =>
                          storesApi.setPrimaryDomain(store.id, d.domain),
                        )
                      }
                      data-testid="domain-make-primary"
                    >
                      Make primary
                    </button>
                  )}
                  <button
                    type="button"
                    className="btn-secondary"
                    disabled={disabled}
                    aria-label={`Remove ${d.domain}`}
                    onClick={() =>
                      change(`Domain ${d.domain} removed`, () => storesApi.removeDomain(store.id, d.domain))
                    }
                    data-testid="domain-remove"
                  >
                    Remove
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
          {domains?.primary ? (
            <button
              type="button"
              className="btn-secondary mt-2 w-full"
              disabled={disabled}
              onClick={() =>
                change('The store’s own host is primary again', () => storesApi.setPrimaryDomain(store.id, null))
              }
              data-testid="domain-own-host"
            >
              Use the store’s own host
            </button>
          ) : null}
          <form className="mt-3 space-y-2" onSubmit={add} noValidate>
            <label htmlFor={`${id}-domain`} className="block text-sm font-medium text-slate-800">
              Add a domain
            </label>
            <input
              id={`${id}-domain`}
              className="field w-full"
              type="text"
              inputMode="url"
              autoCapitalize="none"
              spellCheck={false}
              value={name}
              placeholder="shop.example.com"
              maxLength={253}
              aria-describedby={`${id}-domain-hint`}
              disabled={domains === null}
              onChange={(e) => setName(e.target.value)}
              data-testid="domain-input"
            />
            <p id={`${id}-domain-hint`} className="text-xs text-slate-600" data-testid="domains-note">
              {stateAllows
                ? 'Point the domain’s DNS at this host; adding it redeploys the store.'
                : 'Domains can be changed when the store is ready and no operation runs.'}
            </p>
            <button
              type="submit"
              className="btn-secondary w-full"
              disabled={disabled || name.trim() === ''}
              data-testid="domain-add"
            >
              {working ? 'Applying…' : 'Add and redeploy'}
            </button>
            <ErrorNotice error={error} testId="domains-error" />
          </form>
        </>
      )}
    </section>
  );
}
