// SPDX-License-Identifier: Apache-2.0
// Screen reader announcements for things that change without the user acting
// (a store turning READY). One polite live region lives in the shell.
import { useEffect, useState } from 'react';

let setter = null;
let seq = 0;

export function announce(message) {
  seq += 1;
  setter?.({ message, seq });
}

export function useAnnouncement() {
  const [state, setState] = useState({ message: '', seq: 0 });
  useEffect(() => {
    setter = setState;
    return () => {
      if (setter === setState) setter = null;
    };
  }, []);
  return state;
}
