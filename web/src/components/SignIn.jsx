// SPDX-License-Identifier: Apache-2.0
import { useEffect, useRef, useState } from 'react';
import { session } from '../lib/api.js';
import ErrorNotice from './ErrorNotice.jsx';

export default function SignIn({ onSignedIn, notice }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [missing, setMissing] = useState(false);
  const inputRef = useRef(null);

  useEffect(() => {
    inputRef.current?.focus();
  }, []);

  async function submit(e) {
    e.preventDefault();
    const value = token.trim();
    if (!value) {
      setMissing(true);
      inputRef.current?.focus();
      return;
    }
    setMissing(false);
    setBusy(true);
    setError(null);
    try {
      const s = await session.create(value);
      setToken('');
      onSignedIn(s);
    } catch (err) {
      setError(err);
      setBusy(false);
      inputRef.current?.focus();
    }
  }

  return (
    <main className="flex min-h-dvh items-center justify-center bg-slate-50 px-4 py-12">
      <div className="w-full max-w-sm">
        <div className="mb-6 text-center">
          <Logo />
          <h1 className="mt-3 text-xl font-semibold text-slate-900">Sign in to storeagent</h1>
          <p className="mt-1 text-sm text-slate-600">
            Use an API token, for example the one the setup command printed.
          </p>
        </div>
        <form
          onSubmit={submit}
          noValidate
          data-testid="signin-form"
          className="space-y-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm"
        >
          {notice ? (
            <p role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
              {notice}
            </p>
          ) : null}
          <div>
            <label htmlFor="token" className="block text-sm font-medium text-slate-800">
              API token
            </label>
            <input
              ref={inputRef}
              id="token"
              name="token"
              type="password"
              autoComplete="current-password"
              spellCheck={false}
              placeholder="sa_…"
              value={token}
              onChange={(e) => setToken(e.target.value)}
              aria-invalid={missing || undefined}
              aria-describedby={missing ? 'token-missing' : undefined}
              className="field mt-1"
              data-testid="signin-token"
            />
            {missing ? (
              <p id="token-missing" className="mt-1 text-sm text-red-700">
                Enter your API token.
              </p>
            ) : null}
          </div>
          <ErrorNotice error={error} testId="signin-error" />
          <button type="submit" className="btn-primary w-full" disabled={busy} data-testid="signin-submit">
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}

export function Logo({ className = 'mx-auto size-10' }) {
  return (
    <svg viewBox="0 0 32 32" className={className} aria-hidden="true">
      <rect width="32" height="32" rx="7" fill="#0f172a" />
      <path d="M8 12h16l-1.5 11a2 2 0 0 1-2 1.7h-9a2 2 0 0 1-2-1.7z" fill="#38bdf8" />
      <path d="M12 12V10a4 4 0 0 1 8 0v2" fill="none" stroke="#e2e8f0" strokeWidth="2" strokeLinecap="round" />
    </svg>
  );
}
