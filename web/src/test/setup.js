// SPDX-License-Identifier: Apache-2.0
import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';
import { setCsrfToken, setReachable } from '../lib/api.js';

// CI machines are small and busy; waiting longer costs nothing when things are quick.
configure({ asyncUtilTimeout: 5000 });

afterEach(() => {
  cleanup();
  setCsrfToken(null);
  setReachable(true);
  window.history.replaceState(null, '', '/');
});
