// SPDX-License-Identifier: Apache-2.0
import { useCallback, useEffect, useState } from 'react';
import { NetworkError, onUnauthorized, session as sessionApi, setCsrfToken } from './lib/api.js';
import { hadSession, rememberSession } from './lib/session.js';
import Shell from './components/Shell.jsx';
import SignIn from './components/SignIn.jsx';

export default function App() {
  // undefined: still asking the daemon; null: signed out.
  const [session, setSession] = useState(undefined);
  const [notice, setNotice] = useState(null);
  const [unreachable, setUnreachable] = useState(false);
  // Signed in on this page (not a session found at load): the shell then moves focus to its heading.
  const [signedInNow, setSignedInNow] = useState(false);

  const check = useCallback(async () => {
    // Never signed in here (or signed out): the form at once, no probe to answer 401.
    if (!hadSession()) {
      setSession(null);
      return;
    }
    try {
      const s = await sessionApi.get();
      setCsrfToken(s?.csrf_token);
      setSession(s);
      setUnreachable(false);
    } catch (err) {
      if (err instanceof NetworkError) {
        setUnreachable(true);
        return;
      }
      rememberSession(false);
      setUnreachable(false);
      setSession(null);
    }
  }, []);

  useEffect(() => {
    check();
  }, [check]);

  // While the daemon cannot be reached before we know who the user is, keep asking.
  useEffect(() => {
    if (!unreachable) return undefined;
    const t = setInterval(check, 3000);
    return () => clearInterval(t);
  }, [unreachable, check]);

  useEffect(
    () =>
      onUnauthorized(() => {
        rememberSession(false);
        setCsrfToken(null);
        setSession((s) => {
          if (s) setNotice('Your session has ended. Sign in again.');
          return null;
        });
      }),
    [],
  );

  const signedIn = useCallback((s) => {
    setCsrfToken(s?.csrf_token);
    rememberSession(true);
    setNotice(null);
    setSignedInNow(true);
    setSession(s);
  }, []);

  const signOut = useCallback(async () => {
    try {
      await sessionApi.destroy();
    } catch {
      // Signed out locally either way; the cookie expires on its own.
    }
    rememberSession(false);
    setCsrfToken(null);
    setNotice('You are signed out.');
    setSession(null);
  }, []);

  if (session === undefined) {
    return (
      <main className="flex min-h-dvh items-center justify-center bg-slate-50 px-4">
        {unreachable ? (
          <div
            role="alert"
            className="max-w-sm rounded-lg border border-red-200 bg-white p-6 text-center shadow-sm"
            data-testid="banner-unreachable"
          >
            <p className="font-medium text-red-900">The daemon is unreachable</p>
            <p className="mt-1 text-sm text-slate-700">
              storeagentd did not answer. Check that it is running (<code>systemctl status storeagent</code>); this page
              retries every few seconds.
            </p>
          </div>
        ) : (
          <p className="text-sm text-slate-500" role="status">
            Loading…
          </p>
        )}
      </main>
    );
  }

  if (!session) return <SignIn onSignedIn={signedIn} notice={notice} />;
  return <Shell session={session} onSignOut={signOut} signedInNow={signedInNow} />;
}
