// SPDX-License-Identifier: Apache-2.0
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import LogsPanel, { MAX_LINES } from './LogsPanel.jsx';
import { json, mockFetch, store } from '../test/fetchMock.js';

const ID = '3f9c2a7b1d4e8f60';
const BASE = `/api/v1/stores/${ID}/logs`;
const PODS = {
  store: ID,
  pods: [
    { pod: 'shop1-mysql-0', component: 'database', phase: 'Running', containers: ['mysql'], init_containers: [] },
    { pod: 'shop1-web-7d9', component: 'web', phase: 'Running', containers: ['wordpress'], init_containers: ['init'] },
  ],
};
const text = (body) => () => new Response(body, { status: 200, headers: { 'Content-Type': 'text/plain' } });

describe('Logs panel', () => {
  it("starts on the web pod's container, shows its last lines, offers the whole log as a download", async () => {
    const { calls } = mockFetch({
      [`GET ${BASE}`]: json(200, PODS),
      [`GET ${BASE}/shop1-web-7d9`]: text('booting WordPress\nready to serve\n'),
      [`GET ${BASE}/shop1-mysql-0`]: text('mysqld: ready for connections\n'),
    });
    render(<LogsPanel store={store()} />);
    const panel = await screen.findByTestId('logs');
    const log = within(panel).getByRole('log');
    await waitFor(() => expect(log).toHaveTextContent('booting WordPress ready to serve'));
    const read = calls.find((c) => c.path === `${BASE}/shop1-web-7d9`);
    expect(new URLSearchParams(read.search).get('container')).toBe('wordpress');
    expect(new URLSearchParams(read.search).get('follow')).toBeNull();
    const download = within(panel).getByTestId('logs-download');
    expect(download.getAttribute('href')).toContain('tail=0');
    expect(download.getAttribute('download')).toBe('shop1-shop1-web-7d9-wordpress.log');

    await userEvent.selectOptions(within(panel).getByLabelText('Container'), 'shop1-mysql-0\u0000mysql');
    await waitFor(() => expect(log).toHaveTextContent('mysqld: ready for connections'));
  });

  it('keeps only the last lines of a long log', async () => {
    const lines = Array.from({ length: MAX_LINES + 500 }, (_, i) => `line ${i}`).join('\n') + '\n';
    mockFetch({ [`GET ${BASE}`]: json(200, PODS), [`GET ${BASE}/shop1-web-7d9`]: text(lines) });
    render(<LogsPanel store={store()} />);
    const log = await screen.findByRole('log');
    await waitFor(() => expect(log).toHaveTextContent(`line ${MAX_LINES + 499}`));
    expect(Number(log.dataset.lines)).toBe(MAX_LINES);
    expect(log).not.toHaveTextContent(/line 499\b/);
  });

  it('follows: lines appear as the daemon sends them', async () => {
    let push;
    const follow = () =>
      new Response(
        new ReadableStream({
          start(c) {
            push = (s) => c.enqueue(new TextEncoder().encode(s));
          },
        }),
        { status: 200, headers: { 'Content-Type': 'text/plain' } },
      );
    const { calls } = mockFetch({
      [`GET ${BASE}`]: json(200, PODS),
      [`GET ${BASE}/shop1-web-7d9?container=wordpress&tail=200`]: text('ready to serve\n'),
      [`GET ${BASE}/shop1-web-7d9?container=wordpress&tail=200&follow=true`]: follow,
    });
    render(<LogsPanel store={store()} />);
    const log = await screen.findByRole('log');
    await waitFor(() => expect(log).toHaveTextContent('ready to serve'));
    await userEvent.click(screen.getByLabelText('Follow'));
    expect(await screen.findByTestId('logs-following')).toHaveTextContent('Following live');
    await waitFor(() => expect(push).toBeTypeOf('function'));
    push('ready to serve\n');
    push('order #1001 placed\n');
    await waitFor(() => expect(log).toHaveTextContent('ready to serve order #1001 placed'));
    expect(calls.some((c) => c.search.includes('follow=true'))).toBe(true);
  });
});
