// SPDX-License-Identifier: Apache-2.0
// A new API token, shown the one time the daemon hands it out. It lives only in
// the state of the page that created it: leaving the page drops it.
import { useEffect, useRef } from 'react';
import CopyButton from './CopyButton.jsx';

export default function SecretOnce({ secret, name, account, onDone }) {
  const ref = useRef(null);
  useEffect(() => {
    ref.current?.focus();
  }, [secret]);
  return (
    <div
      ref={ref}
      tabIndex={-1}
      role="region"
      aria-label={`New token ${name}`}
      className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950 focus:outline-none"
      data-testid="secret-once"
    >
      <p className="font-medium">
        Token <strong>{name}</strong>
        {account ? <> for {account}</> : null} was created. Copy it now: you will not see it again.
      </p>
      <div className="mt-2 flex items-center gap-2">
        <code
          className="min-w-0 flex-1 rounded border border-amber-200 bg-white px-2 py-1.5 font-mono text-xs break-all text-slate-900"
          data-testid="secret-value"
        >
          {secret}
        </code>
        <CopyButton text={secret} label="Token" testId="secret-copy" />
      </div>
      <p className="mt-2 text-xs text-amber-900">
        The daemon keeps only a hash of it. If it is lost, revoke it and create another.
      </p>
      {onDone ? (
        <button type="button" className="btn-secondary mt-2 h-8 text-xs" onClick={onDone} data-testid="secret-done">
          I have copied it
        </button>
      ) : null}
    </div>
  );
}
