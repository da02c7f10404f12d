// SPDX-License-Identifier: Apache-2.0
import { Suspense, lazy, useEffect, useRef } from 'react';
import { emit } from '../lib/bus.js';
import { useAnnouncement } from '../lib/announce.js';
import { useReachable } from '../lib/hooks.js';
import { useLiveConnection } from '../lib/live.js';
import { Link, hasNavigated, matchPath, useLocation } from '../lib/router.js';
import { SessionContext, isAdmin } from '../lib/session.js';
import CreateStoreForm from './CreateStoreForm.jsx';
import PlatformPanel from './PlatformPanel.jsx';
import { Logo } from './SignIn.jsx';
import StoreDetail from './StoreDetail.jsx';
import StoreList from './StoreList.jsx';

// Loaded when first opened: most visits are the store list and a store.
const TokensPage = lazy(() => import('./TokensPage.jsx'));
const AccountsPage = lazy(() => import('./AccountsPage.jsx'));
const AuditPage = lazy(() => import('./AuditPage.jsx'));
const WebhooksPage = lazy(() => import('./WebhooksPage.jsx'));
const PlatformPage = lazy(() => import('./PlatformPage.jsx'));

// Pages besides the store list and a store; admin pages are left out of a tenant's shell.
const PAGES = {
  '/tokens': { title: 'Tokens', Page: TokensPage },
  '/webhooks': { title: 'Webhooks', Page: WebhooksPage },
  '/accounts': { title: 'Accounts', Page: AccountsPage, admin: true },
  '/audit': { title: 'Audit', Page: AuditPage, admin: true },
  '/platform': { title: 'Platform', Page: PlatformPage, admin: true },
};

export default function Shell({ session, onSignOut, signedInNow = false }) {
  const mode = useLiveConnection(true);
  const reachable = useReachable();
  const { pathname } = useLocation();
  const { message, seq } = useAnnouncement();

  const detail = matchPath('/stores/:id', pathname);
  const home = pathname === '/' || pathname === '';
  const admin = isAdmin(session);
  const page = PAGES[pathname.replace(/\/+$/, '')];
  const allowed = page && (!page.admin || admin) ? page : null;

  const homeHeading = useRef(null);
  const missingHeading = useRef(null);

  // Right after signing in, focus goes to the page's heading, not back to the document's body.
  const mainRef = useRef(null);
  useEffect(() => {
    if (!signedInNow) return;
    const h1 = mainRef.current?.querySelector('h1');
    (h1 ?? mainRef.current)?.focus();
    // Once, when the shell first shows.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // The store page and the other pages set their own title and move focus themselves.
  useEffect(() => {
    if (detail || allowed) return;
    document.title = home ? 'Stores · storeagent' : 'Not found · storeagent';
    if (hasNavigated()) (home ? homeHeading : missingHeading).current?.focus();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [pathname]);

  const nav = [
    ['/', 'Stores'],
    ['/tokens', 'Tokens'],
    ['/webhooks', 'Webhooks'],
  ];
  if (admin) nav.push(['/accounts', 'Accounts'], ['/audit', 'Audit'], ['/platform', 'Platform']);
  const current = detail ? '/' : home ? '/' : allowed ? pathname.replace(/\/+$/, '') : null;

  return (
    <SessionContext.Provider value={session}>
      <div className="min-h-dvh bg-slate-50 text-slate-900">
        {/* When focused it is a bar above the header, in the page's flow: it covers nothing. */}
        <a
          href="#main"
          className="sr-only focus:not-sr-only focus:block focus:bg-slate-900 focus:px-4 focus:py-2 focus:text-sm focus:font-medium focus:text-white focus:underline"
          data-testid="skip-link"
        >
          Skip to content
        </a>
        <header className="border-b border-slate-200 bg-white">
          <div className="mx-auto flex max-w-7xl items-center gap-3 px-4 py-3 sm:px-6">
            <Link
              to="/"
              className="flex shrink-0 items-center gap-2 rounded font-semibold text-slate-900"
              data-testid="home-logo"
            >
              <Logo className="size-7" />
              {/* On a phone the mark alone, so that the connection state keeps its word. */}
              <span className="max-sm:sr-only">storeagent</span>
            </Link>
            <ConnectionState mode={mode} reachable={reachable} />
            <div className="ml-auto flex items-center gap-3">
              <span className="text-sm text-slate-700" data-testid="user-name">
                <span className="sr-only">Signed in as </span>
                <span className="hidden sm:inline">{session.name}</span>
                <span
                  className={`ml-1.5 rounded px-1.5 py-0.5 text-xs font-medium ${admin ? 'bg-violet-100 text-violet-900' : 'bg-slate-100 text-slate-700'}`}
                  data-testid="user-role"
                >
                  {session.role ?? 'tenant'}
                </span>
              </span>
              <button type="button" className="btn-secondary" onClick={onSignOut} data-testid="sign-out">
                Sign out
              </button>
            </div>
          </div>
          <nav aria-label="Main" className="mx-auto max-w-7xl px-4 sm:px-6" data-testid="main-nav">
            <ul className="-mb-px flex gap-4 overflow-x-auto text-sm">
              {nav.map(([to, label]) => (
                <li key={to}>
                  <Link
                    to={to}
                    aria-current={current === to ? 'page' : undefined}
                    className={`inline-block border-b-2 px-1 py-2 font-medium ${current === to ? 'border-slate-900 text-slate-900' : 'border-transparent text-slate-600 hover:text-slate-900'}`}
                    data-testid={`nav-${label.toLowerCase()}`}
                  >
                    {label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        </header>

        <main
          id="main"
          ref={mainRef}
          tabIndex={-1}
          className="mx-auto max-w-7xl px-4 py-4 pb-24 focus:outline-none sm:px-6 sm:py-6"
        >
          {detail ? (
            <StoreDetail key={detail.id} id={detail.id} />
          ) : allowed ? (
            <Suspense
              fallback={
                <p className="text-sm text-slate-500" role="status">
                  Loading…
                </p>
              }
            >
              <allowed.Page key={pathname} />
            </Suspense>
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
              <h1 ref={missingHeading} tabIndex={-1} className="text-lg font-semibold focus:outline-none">
                Page not found
              </h1>
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
              <strong>The daemon is unreachable.</strong> Changes will show again once storeagentd answers; retrying
              every few seconds.
            </div>
          </div>
        ) : null}

        <div aria-live="polite" aria-atomic="true" className="sr-only" data-testid="announcer">
          <span key={seq}>{message}</span>
        </div>
      </div>
    </SessionContext.Provider>
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
      className={`flex items-center gap-1.5 text-xs text-slate-600 ${text.length > 12 ? 'min-w-0' : 'shrink-0'}`}
      data-testid="connection-state"
      data-mode={reachable ? mode : 'offline'}
    >
      <span aria-hidden="true" className={`size-2 shrink-0 rounded-full ${dot}`} />
      <span className="truncate" title={text} data-testid="connection-text">
        {text}
      </span>
    </span>
  );
}
