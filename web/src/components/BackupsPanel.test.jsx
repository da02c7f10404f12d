// SPDX-License-Identifier: Apache-2.0
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { describe, expect, it } from 'vitest';
import BackupsPanel, { formatBytes, formatInterval, retention } from './BackupsPanel.jsx';
import { apiError, json, mockFetch, store } from '../test/fetchMock.js';

const ID = '3f9c2a7b1d4e8f60';
const BASE = `/api/v1/stores/${ID}`;
const OK = '0123456789abcdef';
const BAD = 'fedcba9876543210';

function backup(overrides = {}) {
  return {
    id: OK,
    store_id: ID,
    status: 'succeeded',
    actor: 'admin',
    scheduled: false,
    kind: 'manual',
    safety_for: null,
    created_at: '2026-12-01T19:51:00Z',
    finished_at: '2026-12-01T19:51:09Z',
    path: `shop1/20261201T195100Z-${OK}`,
    size_bytes: 3 * 1024 * 1024 + 2048,
    manifest: {
      format: 1,
      backup: OK,
      store: { id: ID, name: 'shop1' },
      created_at: '2026-12-01T19:51:00Z',
      chart_version: '0.1.0',
      app_version: '6.8',
      agent_version: '0.1.0',
      parts: [
        {
          name: 'database.sql.gz',
          kind: 'mysqldump',
          pod: 'db',
          size_bytes: 2048,
          uncompressed_bytes: 9000,
          sha256: 'a'.repeat(64),
        },
        {
          name: 'wp-content.tar.gz',
          kind: 'tar',
          pod: 'web',
          size_bytes: 3 * 1024 * 1024,
          uncompressed_bytes: 5 * 1024 * 1024,
          sha256: 'b'.repeat(64),
        },
      ],
    },
    reason: null,
    remote: 'none',
    remote_reason: null,
    remote_key: null,
    ...overrides,
  };
}
const failed = backup({
  id: BAD,
  status: 'failed',
  scheduled: true,
  kind: 'scheduled',
  actor: 'scheduler',
  created_at: '2026-12-01T18:00:00Z',
  path: null,
  size_bytes: 0,
  manifest: null,
  reason: "dumping the database: mysqldump: Access denied for user 'root'",
});
const SCHEDULE = {
  every_sec: 86400,
  store_every_sec: null,
  default_every_sec: 86400,
  min_every_sec: 3600,
  keep: { last: 0, daily: 7, weekly: 4 },
  last_backup_at: '2026-12-01T19:51:09Z',
  next_backup_at: '2026-12-02T19:51:09Z',
};

async function violations() {
  const result = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

describe('Backups panel', () => {
  it("says whether a backup's copy on S3 was made, and why not", async () => {
    const copied = backup({ remote: 'copied', remote_key: `agent1/shop1/20261201T195100Z-${OK}` });
    const notCopied = backup({
      id: BAD,
      remote: 'failed',
      remote_reason: 'database.sql.gz: HTTP 403 SignatureDoesNotMatch: The request signature does not match',
    });
    mockFetch({
      [`GET ${BASE}/backups`]: json(200, { items: [copied, notCopied] }),
      [`GET ${BASE}/backup-schedule`]: json(200, SCHEDULE),
    });
    render(<BackupsPanel store={store()} />);
    const ok = await screen.findByTestId(`backup-${OK}`);
    expect(within(ok).getByTestId('backup-remote')).toHaveTextContent('Copied to S3');
    const bad = screen.getByTestId(`backup-${BAD}`);
    expect(within(bad).getByTestId('backup-status')).toHaveTextContent('Succeeded');
    expect(within(bad).getByTestId('backup-remote')).toHaveTextContent(
      'Not copied to S3 (the backup on the host is good): database.sql.gz: HTTP 403 SignatureDoesNotMatch',
    );
    expect(await violations()).toEqual([]);
  });

  it('lists backups with state, who took them, sizes, the reason of a failure and a link per file', async () => {
    mockFetch({
      [`GET ${BASE}/backups`]: json(200, { items: [backup(), failed] }),
      [`GET ${BASE}/backup-schedule`]: json(200, SCHEDULE),
    });
    render(<BackupsPanel store={store()} />);
    const ok = await screen.findByTestId(`backup-${OK}`);
    expect(within(ok).getByTestId('backup-status')).toHaveTextContent('Succeeded');
    expect(within(ok).getByTestId('backup-kind')).toHaveTextContent('Manual, by admin');
    expect(within(ok).getByTestId('backup-size')).toHaveTextContent('3.0 MiB');
    const db = within(ok).getByRole('link', { name: /database\.sql\.gz/ });
    expect(db.getAttribute('href')).toBe(`${BASE}/backups/${OK}/files/database.sql.gz`);
    expect(db.getAttribute('download')).toBe(`shop1-${OK}-database.sql.gz`);
    expect(within(ok).getByRole('link', { name: /wp-content\.tar\.gz/ })).toBeInTheDocument();
    expect(within(ok).getByRole('link', { name: /manifest\.json/ })).toBeInTheDocument();
    expect(ok).toHaveTextContent('2.0 KiB (8.8 KiB unpacked)');
    expect(within(ok).queryByTestId('backup-remote')).toBeNull();

    const bad = screen.getByTestId(`backup-${BAD}`);
    expect(within(bad).getByTestId('backup-status')).toHaveTextContent('Failed');
    expect(within(bad).getByTestId('backup-kind')).toHaveTextContent('Scheduled');
    expect(within(bad).getByTestId('backup-reason')).toHaveTextContent("Access denied for user 'root'");
    expect(within(bad).queryByRole('link')).toBeNull();
    expect(within(bad).queryByTestId('backup-restore')).toBeNull();

    const summary = await screen.findByTestId('backup-schedule-summary');
    expect(summary).toHaveTextContent("Scheduled backups every day (the platform's default).");
    expect(await violations()).toEqual([]);
  });

  it("marks a restore's safety backup and names the backup restored", async () => {
    const SAFE = '00112233445566aa';
    const safety = backup({
      id: SAFE,
      kind: 'safety',
      safety_for: OK,
      actor: 'acme',
      created_at: '2026-12-01T20:10:00Z',
      path: `shop1/20261201T201000Z-${SAFE}`,
    });
    mockFetch({
      [`GET ${BASE}/backups`]: json(200, { items: [safety, backup()] }),
      [`GET ${BASE}/backup-schedule`]: json(200, SCHEDULE),
    });
    render(<BackupsPanel store={store()} />);
    const row = await screen.findByTestId(`backup-${SAFE}`);
    expect(within(row).getByTestId('backup-safety')).toHaveTextContent('Safety backup');
    expect(within(row).getByTestId('backup-kind')).toHaveTextContent(
      /The store before the restore of the backup of .*by acme/,
    );
    expect(within(screen.getByTestId(`backup-${OK}`)).queryByTestId('backup-safety')).toBeNull();
    expect(await violations()).toEqual([]);
  });

  it('"Back up now" queues one and follows it to its end', async () => {
    let state = 'empty';
    const running = backup({ status: 'running', manifest: null, size_bytes: 0, finished_at: null, path: null });
    const { calls } = mockFetch({
      [`GET ${BASE}/backups`]: () =>
        json(200, { items: state === 'empty' ? [] : state === 'running' ? [running] : [backup()] })(),
      [`POST ${BASE}/backups`]: () => {
        state = 'running';
        return json(202, { ...running, status: 'queued' })();
      },
      [`GET ${BASE}/backup-schedule`]: json(200, SCHEDULE),
    });
    render(<BackupsPanel store={store({ step: 'dumping the database', progress: { current: 1, total: 3 } })} />);
    await screen.findByTestId('backups-none');
    await userEvent.click(screen.getByRole('button', { name: 'Back up now' }));
    expect(calls.filter((c) => c.method === 'POST' && c.path === `${BASE}/backups`)).toHaveLength(1);
    await waitFor(() => expect(screen.getByTestId(`backup-${OK}`).dataset.status).toBe('running'));
    expect(screen.getByTestId('backup-now')).toBeDisabled();
    expect(screen.getByTestId('backup-now')).toHaveTextContent('Backing up…');
    expect(screen.getByRole('progressbar', { name: 'Backup progress' })).toHaveAttribute('aria-valuenow', '1');
    state = 'done';
    await waitFor(() => expect(screen.getByTestId(`backup-${OK}`).dataset.status).toBe('succeeded'), {
      timeout: 10000,
    });
    expect(screen.getByTestId('backups-note')).toHaveTextContent('Backup of shop1 succeeded.');
    expect(screen.getByTestId('backup-now')).toBeEnabled();
  });

  it('shows the daemon refusing a backup', async () => {
    mockFetch({
      [`GET ${BASE}/backups`]: json(200, { items: [] }),
      [`POST ${BASE}/backups`]: apiError(409, 'busy', 'Another operation is running on this store.'),
      [`GET ${BASE}/backup-schedule`]: json(200, SCHEDULE),
    });
    render(<BackupsPanel store={store()} />);
    await screen.findByTestId('backups-none');
    await userEvent.click(screen.getByRole('button', { name: 'Back up now' }));
    expect(await screen.findByTestId('backups-action-error')).toHaveTextContent('Another operation is running');
  });

  it('restores only once the store name is typed; Escape cancels and gives focus back', async () => {
    const { calls } = mockFetch({
      [`GET ${BASE}/backups`]: json(200, { items: [backup(), failed] }),
      [`POST ${BASE}/restore`]: json(202, {
        restore_of: OK,
        safety_backup: backup({ id: 'aaaaaaaaaaaaaaaa', status: 'queued' }),
      }),
      [`GET ${BASE}/backup-schedule`]: json(200, SCHEDULE),
    });
    render(<BackupsPanel store={store()} />);
    const ok = await screen.findByTestId(`backup-${OK}`);
    const open = within(ok).getByTestId('backup-restore');
    await userEvent.click(open);
    const input = within(ok).getByLabelText('Type shop1 to confirm');
    expect(document.activeElement).toBe(input);
    await userEvent.keyboard('{Escape}');
    expect(within(ok).queryByTestId('backup-restore-confirm')).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(within(ok).getByTestId('backup-restore')));

    await userEvent.click(within(ok).getByTestId('backup-restore'));
    const form = within(ok).getByTestId('backup-restore-confirm');
    expect(form).toHaveTextContent('A safety backup of the store as it is now is taken first.');
    const submit = within(form).getByTestId('backup-confirm-submit');
    await userEvent.type(within(form).getByLabelText('Type shop1 to confirm'), 'shop');
    expect(submit).toBeDisabled();
    expect(await violations()).toEqual([]);
    await userEvent.type(within(form).getByLabelText('Type shop1 to confirm'), '1');
    expect(submit).toBeEnabled();
    await userEvent.click(submit);
    const posted = calls.filter((c) => c.method === 'POST' && c.path === `${BASE}/restore`);
    expect(posted.map((c) => c.body)).toEqual([{ backup: OK }]);
    expect(await screen.findByTestId('backups-note')).toHaveTextContent('Restoring shop1');
  });

  it("makes a new store from a backup after its name is given; the daemon's refusal shows in the form", async () => {
    let answers = [
      apiError(409, 'name_taken', "A store named 'shop2' already exists."),
      json(202, store({ id: 'c10e000000000001', name: 'shop2b', status: 'PROVISIONING' })),
    ];
    const { calls } = mockFetch({
      [`GET ${BASE}/backups`]: json(200, { items: [backup(), failed] }),
      'POST /api/v1/stores': () => answers.shift()(),
      [`GET ${BASE}/backup-schedule`]: json(200, SCHEDULE),
    });
    render(<BackupsPanel store={store({ status: 'DELETED' })} />);
    const ok = await screen.findByTestId(`backup-${OK}`);
    // Only a succeeded backup can be cloned, and a deleted store's backups too.
    expect(within(screen.getByTestId(`backup-${BAD}`)).queryByTestId('backup-clone')).toBeNull();
    await userEvent.click(within(ok).getByRole('button', { name: /^Create a store from this backup…/ }));
    const form = within(ok).getByTestId('backup-clone-form');
    const input = within(form).getByLabelText('Name of the new store');
    expect(document.activeElement).toBe(input);
    expect(form).toHaveTextContent('shop1 itself does not change.');
    expect(await violations()).toEqual([]);

    await userEvent.type(input, 'Shop2');
    await userEvent.click(within(form).getByRole('button', { name: 'Create store' }));
    expect(within(form).getByTestId('backup-clone-name-error')).toHaveTextContent('Use lowercase letters only.');
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);

    await userEvent.clear(input);
    await userEvent.type(input, 'shop2');
    await userEvent.click(within(form).getByRole('button', { name: 'Create store' }));
    expect(await within(form).findByTestId('backup-clone-error')).toHaveTextContent('already exists');
    await userEvent.type(input, 'b');
    await userEvent.click(within(form).getByRole('button', { name: 'Create store' }));
    await waitFor(() => expect(within(ok).queryByTestId('backup-clone-form')).toBeNull());
    const posted = calls.filter((c) => c.method === 'POST' && c.path === '/api/v1/stores');
    expect(posted.map((c) => c.body)).toEqual([
      { name: 'shop2', engine: 'woocommerce', from_backup: { store: ID, backup: OK } },
      { name: 'shop2b', engine: 'woocommerce', from_backup: { store: ID, backup: OK } },
    ]);
    expect(screen.getByTestId('backups-note')).toHaveTextContent('Store shop2b is being created from the backup of');
    expect(within(screen.getByTestId('backup-cloned')).getByRole('link', { name: 'Open shop2b' })).toHaveAttribute(
      'href',
      '/stores/c10e000000000001',
    );
  });

  it('deletes a backup after the name is typed', async () => {
    let items = [backup(), failed];
    const { calls } = mockFetch({
      [`GET ${BASE}/backups`]: () => json(200, { items })(),
      [`DELETE ${BASE}/backups/${BAD}`]: () => {
        items = [backup()];
        return new Response(null, { status: 204 });
      },
      [`GET ${BASE}/backup-schedule`]: json(200, SCHEDULE),
    });
    render(<BackupsPanel store={store()} />);
    const bad = await screen.findByTestId(`backup-${BAD}`);
    await userEvent.click(within(bad).getByRole('button', { name: /^Delete…/ }));
    const form = within(bad).getByTestId('backup-delete-confirm');
    await userEvent.type(within(form).getByLabelText('Type shop1 to confirm'), 'shop1');
    await userEvent.click(within(form).getByRole('button', { name: 'Delete backup' }));
    await waitFor(() => expect(screen.queryByTestId(`backup-${BAD}`)).toBeNull());
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`${BASE}/backups/${BAD}`]);
    expect(screen.getByTestId(`backup-${OK}`)).toBeInTheDocument();
  });

  it("changes the store's schedule", async () => {
    const { calls } = mockFetch({
      [`GET ${BASE}/backups`]: json(200, { items: [] }),
      [`GET ${BASE}/backup-schedule`]: json(200, SCHEDULE),
      [`PATCH ${BASE}/backup-schedule`]: json(200, { ...SCHEDULE, every_sec: 21600, store_every_sec: 21600 }),
    });
    render(<BackupsPanel store={store()} />);
    const select = await screen.findByLabelText('Back up this store');
    expect(screen.getByTestId('backup-schedule-save')).toBeDisabled();
    await userEvent.selectOptions(select, '21600');
    await userEvent.click(screen.getByTestId('backup-schedule-save'));
    expect(calls.filter((c) => c.method === 'PATCH').map((c) => c.body)).toEqual([{ every_sec: 21600 }]);
    await waitFor(() =>
      expect(screen.getByTestId('backup-schedule-summary')).toHaveTextContent('Scheduled backups every 6 hours.'),
    );
  });

  it('formats sizes and intervals', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(200 * 1024 * 1024)).toBe('200 MiB');
    expect(formatInterval(0)).toBe('off');
    expect(formatInterval(86400)).toBe('every day');
    expect(formatInterval(21600)).toBe('every 6 hours');
    expect(formatInterval(14 * 86400)).toBe('every 2 weeks');
    expect(retention({ last: 0, daily: 7, weekly: 1 })).toBe(
      'Scheduled backups kept: one a day for 7 days, one a week for 1 week.',
    );
    expect(retention({ last: 3, daily: 0, weekly: 0 })).toBe('Scheduled backups kept: the last 3.');
  });
});
