// SPDX-License-Identifier: Apache-2.0
import { tokens as tokensApi } from '../lib/api.js';
import { useSession } from '../lib/session.js';
import PageHeading from './PageHeading.jsx';
import TokenManager from './TokenManager.jsx';

export default function TokensPage() {
  const session = useSession();
  return (
    <div className="space-y-4" data-testid="tokens-page">
      <div>
        <PageHeading title="Tokens" />
        <p className="mt-1 text-sm text-slate-600">
          API tokens of {session?.name ? <strong>{session.name}</strong> : 'your account'}, for storectl, scripts and
          signing in here. Each acts with your account&apos;s rights.
        </p>
      </div>
      <TokenManager api={tokensApi} current={session?.token} />
    </div>
  );
}
