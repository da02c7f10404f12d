// SPDX-License-Identifier: Apache-2.0
// Shows an API error the way the daemon worded it, plus how long to wait
// when the daemon said so (429 Retry-After).
import { ApiError, NetworkError } from '../lib/api.js';
import { formatDuration } from '../lib/format.js';
import { useCountdown } from '../lib/hooks.js';

export default function ErrorNotice({ error, testId, className = '' }) {
  const wait = useCountdown(error instanceof ApiError ? error.retryAfter : null);
  if (!error) return null;
  const showWait = error instanceof ApiError && error.retryAfter != null;
  let message =
    error instanceof ApiError || error instanceof NetworkError ? error.message : String(error.message ?? error);
  // The countdown below says when; the daemon's own "try again in N seconds" would say it twice.
  if (showWait) message = message.replace(/[;,]\s*try again in \d+ seconds?(?=\.?$)/i, '');
  return (
    <div
      role="alert"
      data-testid={testId}
      data-code={error instanceof ApiError ? error.code : undefined}
      className={`rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-900 ${className}`}
    >
      <p className="break-words" data-testid={testId ? `${testId}-message` : undefined}>
        {message}
      </p>
      {showWait ? (
        <p className="mt-1 text-red-800">
          {wait > 0 ? <>You can try again in {formatDuration(wait)}.</> : <>You can try again now.</>}
        </p>
      ) : null}
    </div>
  );
}
