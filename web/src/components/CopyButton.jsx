// SPDX-License-Identifier: Apache-2.0
import { useEffect, useState } from 'react';
import { copyText } from '../lib/clipboard.js';

/** label names what is copied ("Token"); the button's accessible name is "Copy <label>". */
export default function CopyButton({ text, label, testId, className = '' }) {
  const [state, setState] = useState(null);
  useEffect(() => {
    if (!state) return undefined;
    const t = setTimeout(() => setState(null), 2000);
    return () => clearTimeout(t);
  }, [state]);
  return (
    <button
      type="button"
      className={`btn-secondary h-8 px-2.5 text-xs ${className}`}
      aria-label={`Copy ${label.toLowerCase()}`}
      onClick={async () => setState((await copyText(text, label)) ? 'copied' : 'failed')}
      data-testid={testId}
    >
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : 'Copy'}
    </button>
  );
}
