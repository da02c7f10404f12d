// SPDX-License-Identifier: Apache-2.0
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import App from '../App.jsx';
import SignIn from './SignIn.jsx';
import { apiError, json, mockFetch } from '../test/fetchMock.js';

describe('SignIn', () => {
  it('asks for a token before calling the daemon', async () => {
    const { calls } = mockFetch({});
    render(<SignIn onSignedIn={() => {}} />);
    expect(screen.getByLabelText('API token')).toHaveFocus();
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(screen.getByText('Enter your API token.')).toBeInTheDocument();
    expect(screen.getByLabelText('API token')).toHaveAttribute('aria-invalid', 'true');
    expect(calls).toHaveLength(0);
  });

  it("shows the daemon's refusal verbatim", async () => {
    mockFetch({
      'POST /api/v1/session': apiError(401, 'invalid_token', 'The token is not valid or has been revoked.'),
    });
    const onSignedIn = vi.fn();
    render(<SignIn onSignedIn={onSignedIn} />);
    await userEvent.type(screen.getByLabelText('API token'), 'sa_wrong');
    await userEvent.keyboard('{Enter}');
    expect(await screen.findByRole('alert')).toHaveTextContent('The token is not valid or has been revoked.');
    expect(onSignedIn).not.toHaveBeenCalled();
  });

  it('signs in with the token and hands over the session', async () => {
    const { calls } = mockFetch({ 'POST /api/v1/session': json(200, { name: 'admin', csrf_token: 'c1' }) });
    const onSignedIn = vi.fn();
    render(<SignIn onSignedIn={onSignedIn} />);
    await userEvent.type(screen.getByLabelText('API token'), '  sa_good ');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(onSignedIn).toHaveBeenCalledWith({ name: 'admin', csrf_token: 'c1' }));
    expect(calls[0].body).toEqual({ token: 'sa_good' });
  });
});

describe('App session flow', () => {
  const empty = json(200, { items: [], total: 0, limit: 50, offset: 0 });
  const platform = json(200, {
    version: '0.1.0',
    stores_by_status: {},
    limits: {},
    cluster: { reachable: true, detail: 'v1.33.13' },
  });

  it('shows sign-in without a session, then the dashboard, and signs out with the CSRF header', async () => {
    let signedIn = false;
    const { calls } = mockFetch({
      'GET /api/v1/session': () =>
        signedIn ? json(200, { name: 'admin', csrf_token: 'c9' })() : apiError(401, 'unauthorized', 'Sign in.')(),
      'POST /api/v1/session': () => {
        signedIn = true;
        return json(200, { name: 'admin', csrf_token: 'c9' })();
      },
      'DELETE /api/v1/session': () => new Response(null, { status: 204 }),
      'GET /api/v1/stores': empty,
      'GET /api/v1/platform': platform,
    });
    render(<App />);
    await userEvent.type(await screen.findByLabelText('API token'), 'sa_good');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('No stores yet')).toBeInTheDocument();
    expect(screen.getByTestId('user-name')).toHaveTextContent('admin');

    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByText('You are signed out.')).toBeInTheDocument();
    const del = calls.find((c) => c.method === 'DELETE');
    expect(del.headers['X-CSRF-Token']).toBe('c9');
  });

  it('goes back to sign-in when a call gets 401', async () => {
    const routes = {
      'GET /api/v1/session': json(200, { name: 'admin', csrf_token: 'c1' }),
      'GET /api/v1/stores': empty,
      'GET /api/v1/platform': platform,
    };
    mockFetch(routes);
    render(<App />);
    expect(await screen.findByText('No stores yet')).toBeInTheDocument();
    routes['GET /api/v1/stores'] = apiError(401, 'session_expired', 'Your session expired.');
    await userEvent.selectOptions(screen.getByLabelText('Status'), 'FAILED');
    expect(await screen.findByText('Your session has ended. Sign in again.')).toBeInTheDocument();
    expect(screen.getByLabelText('API token')).toBeInTheDocument();
  });

  it('shows the unreachable banner when the daemon stops answering, and hides it when it is back', async () => {
    const routes = {
      'GET /api/v1/session': json(200, { name: 'admin', csrf_token: 'c1' }),
      'GET /api/v1/stores': empty,
      'GET /api/v1/platform': platform,
    };
    mockFetch(routes);
    render(<App />);
    expect(await screen.findByText('No stores yet')).toBeInTheDocument();
    expect(screen.queryByTestId('banner-unreachable')).not.toBeInTheDocument();
    routes['GET /api/v1/stores'] = 'network';
    await userEvent.selectOptions(screen.getByLabelText('Status'), 'READY');
    expect(await screen.findByTestId('banner-unreachable')).toHaveTextContent('The daemon is unreachable.');
    expect(screen.getByTestId('connection-state')).toHaveAttribute('data-mode', 'offline');
    routes['GET /api/v1/stores'] = empty;
    await userEvent.selectOptions(screen.getByLabelText('Status'), 'FAILED');
    await waitFor(() => expect(screen.queryByTestId('banner-unreachable')).not.toBeInTheDocument());
  });

  it('says when the daemon cannot be reached', async () => {
    mockFetch({ 'GET /api/v1/session': 'network' });
    render(<App />);
    expect(await screen.findByTestId('banner-unreachable')).toHaveTextContent('The daemon is unreachable');
  });
});
