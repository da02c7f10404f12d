// SPDX-License-Identifier: Apache-2.0
import { useEffect, useRef } from 'react';
import { emit } from '../lib/bus.js';
import { useAnnouncement } from '../lib/announce.js';
import { useReachable } from '../lib/hooks.js';
import { useLiveConnection } from '../lib/live.js';
import { Link, hasNavigated, matchPath, useLocation } from '../lib/router.js';
import CreateStoreForm from './CreateStoreForm.jsx';
import PlatformPanel from './PlatformPanel.jsx';
import { Logo } from './SignIn.jsx';
import StoreDetail from './StoreDetail.jsx';
import StoreList from './StoreList.jsx';

export default function Shell({ session, onSignOut }) {
  const mode = useLiveConnection(true);
  const reachable = useReachable();
  const { pathname } = useLocation();
  const { message, seq } = useAnnouncement();

  const detail = matchPath('/stores/:id', pathname);
  const home = pathname === '/' || pathname === '';

  const homeHeading = useRef(null);

  // The store page sets its own title and moves focus once its store is loaded.
  useEffect(() => {
    if (detail) return;
    document.title = home ? 'Stores · storeagent' : 'Not found · storeagent';
    if (home && hasNavigated()) homeHeading.current?.focus();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [pathname]);

  return (
    <div className="min-h-dvh bg-slate-50 text-slate-900">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 btn-secondary"
      >
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-7xl items-center gap-3 px-4 py-3 sm:px-6">
          <Link to="/" className="flex items-center gap-2 rounded font-semibold text-slate-900">
            <Logo className="size-7" />
            <span>storeagent</span>
          </Link>
          <ConnectionState mode={mode} reachable={reachable} />
          <div className="ml-auto flex items-center gap-3">
            <span className="hidden text-sm text-slate-600 sm:inline" data-testid="user-name">
              {session.name}
            </span>
            <button type="button" className="btn-secondary" onClick={onSignOut} data-testid="sign-out">
              Sign out
            </button>
          </div>
        </div>
      </header>

      <main id="main" className="mx-auto max-w-7xl px-4 py-4 pb-24 sm:px-6 sm:py-6">
        {detail ? (
          <StoreDetail key={detail.id} id={detail.id} />
        ) : home ? (
          <div className="grid gap-4 lg:grid-cols-[minmax(0,1fr)_20rem]">
            <div className="min-w-0 space-y-4">
              <h1 ref={homeHeading} tabIndex={-1} className="sr-only">
                Stores
              </h1>
              <CreateStoreForm onCreated={(s) => s?.id && emit('store', s)} />
              <StoreList />
            </div>
            <aside className="min-w-0">
              <PlatformPanel />
            </aside>
          </div>
        ) : (
          <div className="card p-6">
            <h1 className="text-lg font-semibold">Page not found</h1>
            <p className="mt-1 text-sm text-slate-600">
              There is nothing at <code>{pathname}</code>.{' '}
              <Link to="/" className="link">
                Go to the stores
              </Link>
              .
            </p>
          </div>
        )}
      </main>

      {!reachable ? (
        <div
          role="alert"
          className="fixed inset-x-0 bottom-0 z-40 border-t border-red-300 bg-red-700 px-4 py-3 text-sm text-white shadow-lg"
          data-testid="banner-unreachable"
        >
          <div className="mx-auto max-w-7xl">
            <strong>The daemon is unreachable.</strong> Changes will show again once storeagentd answers; retrying every
            few seconds.
          </div>
        </div>
      ) : null}

      <div aria-live="polite" aria-atomic="true" className="sr-only" data-testid="announcer">
        <span key={seq}>{message}</span>
      </div>
    </div>
  );
}

function ConnectionState({ mode, reachable }) {
  const [dot, text] = !reachable
    ? ['bg-red-500', 'Offline']
    : mode === 'live'
      ? ['bg-emerald-500', 'Live']
      : mode === 'polling'
        ? ['bg-amber-500', 'Reconnecting (updating every 3 s)']
        : ['bg-slate-300', 'Connecting…'];
  return (
    <span
      className="flex min-w-0 items-center gap-1.5 text-xs text-slate-600"
      data-testid="connection-state"
      data-mode={reachable ? mode : 'offline'}
    >
      <span aria-hidden="true" className={`size-2 shrink-0 rounded-full ${dot}`} />
      <span className="truncate">{text}</span>
    </span>
  );
}
