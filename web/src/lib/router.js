// SPDX-License-Identifier: Apache-2.0
// A tiny history router: the daemon serves index.html for every client route
// (SPA fallback), so pushState URLs survive a reload.
import { createElement, useSyncExternalStore } from 'react';

const listeners = new Set();
let navigations = 0;

function emit() {
  navigations += 1;
  for (const fn of listeners) fn();
}

if (typeof window !== 'undefined') {
  window.addEventListener('popstate', emit);
}

function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const snapshot = () => window.location.pathname + window.location.search;

export function navigate(to, { replace = false } = {}) {
  if (to === snapshot()) return;
  if (replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  emit();
}

/** True once the user has moved between pages: pages then move focus to their heading. */
export function hasNavigated() {
  return navigations > 0;
}

export function useLocation() {
  const full = useSyncExternalStore(subscribe, snapshot, snapshot);
  const i = full.indexOf('?');
  const pathname = i < 0 ? full : full.slice(0, i);
  const search = new URLSearchParams(i < 0 ? '' : full.slice(i));
  return { pathname, search };
}

/** Matches "/stores/:id" style patterns; returns params or null. */
export function matchPath(pattern, pathname) {
  const p = pattern.split('/').filter(Boolean);
  const s = pathname.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}

export function Link({ to, onClick, ...props }) {
  return createElement('a', {
    href: to,
    ...props,
    onClick(e) {
      onClick?.(e);
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      if (props.target && props.target !== '_self') return;
      e.preventDefault();
      navigate(to);
    },
  });
}
