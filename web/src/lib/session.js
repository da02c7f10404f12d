// SPDX-License-Identifier: Apache-2.0
// Who is signed in ({name, role, token, csrf_token} from GET /api/v1/session), for the
// views that differ by role. The daemon decides what each account may do; the
// dashboard only leaves out what an account cannot use.
import { createContext, useContext } from 'react';

export const SessionContext = createContext(null);

export function useSession() {
  return useContext(SessionContext);
}

export const isAdmin = (session) => session?.role === 'admin';

// Whether this browser was signed in when last seen: without it a cold load shows the sign-in
// form at once instead of asking the daemon, whose 401 would be logged in the console. A hint,
// not a secret: the session itself is the HttpOnly cookie, and a stale hint costs one 401.
const SIGNED_IN_KEY = 'storeagent.signed-in';

export function hadSession() {
  try {
    return localStorage.getItem(SIGNED_IN_KEY) === '1';
  } catch {
    return true; // storage blocked: ask the daemon, as before
  }
}

export function rememberSession(signedIn) {
  try {
    if (signedIn) localStorage.setItem(SIGNED_IN_KEY, '1');
    else localStorage.removeItem(SIGNED_IN_KEY);
  } catch {
    // storage blocked: every load asks the daemon
  }
}
