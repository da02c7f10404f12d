// SPDX-License-Identifier: Apache-2.0
// The baseline tests/bench/api-bench compares storeagentd with: the same list route on Node,
// Express and SQLite (better-sqlite3), reading the same database file, written the way such a
// service usually is. Each request checks the bearer token as the daemon does (SHA-256 of the
// token, looked up with its account), then reads one page of stores and their count and
// answers the same JSON.
//
//   node server.js DATABASE PORT
'use strict';
const crypto = require('node:crypto');
const express = require('express');
const Database = require('better-sqlite3');

const [dbPath, port] = process.argv.slice(2);
const db = new Database(dbPath, { readonly: true });
db.pragma('busy_timeout = 5000');

const tokenByHash = db.prepare(
  'SELECT t.id, t.expires_at, a.id AS account_id, a.role, a.disabled_at FROM tokens t ' +
  'JOIN accounts a ON a.id = t.account_id WHERE t.hash = ? AND t.revoked_at IS NULL');
const where = 'FROM stores WHERE (@account = 0 OR coalesce(account_id, 0) = @account) AND ' +
  "(@status IS NULL AND status <> 'DELETED' OR status = @status)";
const page = db.prepare(
  'SELECT id, name, engine, owner, status, status_reason, step, progress_current, progress_total, url, ' +
  `chart_version, helm_revision, created_at, updated_at, deleted_at ${where} ` +
  'ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset');
const count = db.prepare(`SELECT count(*) AS n ${where}`);

const time = (usec) => (usec ? new Date(Math.floor(usec / 1e6) * 1000).toISOString().replace('.000Z', 'Z') : null);
const store = (r) => ({
  id: r.id, name: r.name, engine: r.engine, owner: r.owner, status: r.status,
  status_reason: r.status_reason, step: r.step,
  progress: r.progress_total > 0 ? { current: r.progress_current, total: r.progress_total } : null,
  url: r.url, chart_version: r.chart_version, helm_revision: r.helm_revision > 0 ? r.helm_revision : null,
  created_at: time(r.created_at), updated_at: time(r.updated_at), deleted_at: time(r.deleted_at),
});

function authenticate(req, res, next) {
  const auth = req.get('authorization') || '';
  const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
  const row = token.startsWith('sa_') && token.length <= 256
    ? tokenByHash.get(crypto.createHash('sha256').update(token).digest('hex')) : undefined;
  const now = Date.now() * 1000;
  if (!row || row.disabled_at || (row.expires_at && row.expires_at <= now))
    return res.status(401).json({ error: { code: 'unauthorized', message: 'Missing or invalid token.' } });
  req.account = row.role === 'admin' ? 0 : row.account_id;
  next();
}

const app = express();
app.disable('x-powered-by');
app.get('/api/v1/stores', authenticate, (req, res) => {
  const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
  const offset = req.query.offset === undefined ? 0 : Number(req.query.offset);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500 || !Number.isInteger(offset) || offset < 0)
    return res.status(400).json({ error: { code: 'invalid_parameter', message: 'Bad limit or offset.' } });
  // One row more than asked for says whether there is a next page (keyset cursor, as the daemon's).
  const rows = page.all({ account: req.account, status: null, limit: limit + 1, offset });
  const last = rows.length > limit ? rows[limit - 1] : null;
  const items = rows.slice(0, limit).map(store);
  const total = count.get({ account: req.account, status: null }).n;
  const next_cursor = last ? '1' + BigInt(last.created_at).toString(16).padStart(16, '0') + last.id : null;
  res.json({ items, total, limit, offset, next_cursor });
});
app.listen(Number(port), '127.0.0.1');
