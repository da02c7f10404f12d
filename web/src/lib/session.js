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
