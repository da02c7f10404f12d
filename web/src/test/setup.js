// SPDX-License-Identifier: Apache-2.0
import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterEach, beforeEach } from 'vitest';
import { setCsrfToken, setReachable } from '../lib/api.js';
import { rememberSession } from '../lib/session.js';

// CI machines are small and busy; waiting longer costs nothing when things are quick.
configure({ asyncUtilTimeout: 5000 });

// Most tests start as a browser that was signed in before: the dashboard asks the daemon.
beforeEach(() => rememberSession(true));

afterEach(() => {
  cleanup();
  setCsrfToken(null);
  setReachable(true);
  window.history.replaceState(null, '', '/');
});
