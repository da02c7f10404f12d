// SPDX-License-Identifier: Apache-2.0
// The store's WordPress admin sign-in. The password is fetched only when the
// user asks to see it, kept in this component's state alone (never in storage),
// and dropped on Hide, on rotation and when the page is left.
import { useEffect, useId, useRef, useState } from 'react';
import { stores as storesApi } from '../lib/api.js';
import { announce } from '../lib/announce.js';
import { BUSY } from '../lib/status.js';
import CopyButton from './CopyButton.jsx';
import ErrorNotice from './ErrorNotice.jsx';
import Progress from './Progress.jsx';

const adminUrlOf = (url) => (url ? `${url.replace(/\/+$/, '')}/wp-admin/` : null);

export default function StoreAdminCard({ store, onApplied }) {
  const id = useId();
  const [creds, setCreds] = useState(null);
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [confirming, setConfirming] = useState(false);
  // Set from the 202 of a rotation until the store reports the task over.
  const [rotation, setRotation] = useState(null);
  const rotateButton = useRef(null);
  const confirmButton = useRef(null);

  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);

  useEffect(() => {
    if (!rotation) return;
    const later = (store.updated_at ?? '') > (rotation.since ?? '');
    const working = BUSY.has(store.status) || !!store.step;
    if (working) {
      if (!rotation.seen) setRotation((r) => ({ ...r, seen: true }));
      return;
    }
    if (rotation.seen || later) {
      setRotation(null);
      announce(
        store.status === 'FAILED'
          ? `Rotating the admin password of ${store.name} failed.`
          : `The new admin password of ${store.name} is ready.`,
      );
    }
  }, [store, rotation]);

  async function reveal() {
    setBusy('reveal');
    setError(null);
    try {
      setCreds(await storesApi.credentials(store.id));
      announce('Admin password shown.');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  async function rotate() {
    setBusy('rotate');
    setError(null);
    try {
      const s = await storesApi.rotateCredentials(store.id);
      setCreds(null);
      setConfirming(false);
      setRotation({ since: s?.updated_at ?? store.updated_at ?? '', seen: false });
      announce(`Rotating the admin password of ${store.name}.`);
      onApplied?.(s);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  const url = creds?.url ?? store.url;
  const adminUrl = creds?.admin_url ?? adminUrlOf(store.url);

  return (
    <section className="card p-4 sm:p-5" aria-labelledby={`${id}-title`} data-testid="store-admin">
      <h2 id={`${id}-title`} className="text-base font-semibold text-slate-900">
        Store admin
      </h2>
      <dl className="mt-3 space-y-2.5 text-sm">
        <Row label="Shop" testId="admin-shop-url" copy={url} copyLabel="Shop URL">
          {url ? (
            <a href={url} target="_blank" rel="noopener noreferrer" className="link break-all">
              {url}
            </a>
          ) : (
            <span className="text-slate-500">not yet</span>
          )}
        </Row>
        <Row label="WordPress admin" testId="admin-url" copy={adminUrl} copyLabel="Admin URL">
          {adminUrl ? (
            <a href={adminUrl} target="_blank" rel="noopener noreferrer" className="link break-all">
              {adminUrl}
            </a>
          ) : (
            <span className="text-slate-500">not yet</span>
          )}
        </Row>
        <Row label="User" testId="admin-user" copy={creds?.username} copyLabel="User name">
          {creds ? (
            <span className="font-mono">{creds.username}</span>
          ) : (
            <span className="text-slate-500">shown with the password</span>
          )}
        </Row>
        <Row label="Password" testId="admin-password" copy={creds?.password} copyLabel="Password">
          {creds ? (
            <span className="font-mono break-all" data-testid="admin-password-value">
              {creds.password}
            </span>
          ) : (
            <span className="text-slate-500" aria-label="hidden">
              ••••••••••
            </span>
          )}
        </Row>
      </dl>

      <div className="mt-3 flex flex-wrap gap-2">
        {creds ? (
          <button
            type="button"
            className="btn-secondary"
            onClick={() => {
              setCreds(null);
              announce('Admin password hidden.');
            }}
            data-testid="admin-hide"
          >
            Hide
          </button>
        ) : (
          <button type="button" className="btn-secondary" disabled={!!busy} onClick={reveal} data-testid="admin-reveal">
            {busy === 'reveal' ? 'Revealing…' : 'Reveal'}
            <span className="sr-only"> the admin user and password</span>
          </button>
        )}
        {!confirming ? (
          <button
            ref={rotateButton}
            type="button"
            className="btn-secondary"
            disabled={!!busy || !!rotation || BUSY.has(store.status) || store.status === 'DELETING'}
            onClick={() => {
              setError(null);
              setConfirming(true);
            }}
            data-testid="admin-rotate"
          >
            Rotate password…
          </button>
        ) : null}
      </div>

      {confirming ? (
        <div
          className="mt-3 space-y-2 rounded-md border border-amber-300 bg-amber-50 p-3"
          role="group"
          aria-label="Rotate the admin password?"
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              setConfirming(false);
              setTimeout(() => rotateButton.current?.focus(), 0);
            }
          }}
          data-testid="rotate-confirm"
        >
          <p className="text-sm text-amber-950">
            This sets a new WordPress admin password; the current one stops working. The shop stays up.
          </p>
          <div className="flex gap-2">
            <button
              ref={confirmButton}
              type="button"
              className="btn-primary"
              disabled={!!busy}
              onClick={rotate}
              data-testid="rotate-confirm-submit"
            >
              {busy === 'rotate' ? 'Rotating…' : 'Rotate password'}
            </button>
            <button
              type="button"
              className="btn-secondary"
              onClick={() => {
                setConfirming(false);
                setTimeout(() => rotateButton.current?.focus(), 0);
              }}
            >
              Cancel
            </button>
          </div>
        </div>
      ) : null}

      {rotation ? (
        <div className="mt-3" data-testid="rotate-progress">
          <Progress step={store.step} progress={store.progress} label="Password rotation progress" />
        </div>
      ) : null}

      <ErrorNotice error={error} testId="admin-error" className={error ? 'mt-3' : ''} />
    </section>
  );
}

function Row({ label, testId, copy, copyLabel, children }) {
  return (
    <div className="grid grid-cols-[7.5rem_minmax(0,1fr)_auto] items-center gap-2" data-testid={testId}>
      <dt className="text-slate-600">{label}</dt>
      <dd className="min-w-0 text-slate-900">{children}</dd>
      <dd>{copy ? <CopyButton text={copy} label={copyLabel} /> : null}</dd>
    </div>
  );
}
