'use strict';
// Where /note keeps its data: SQLite through node:sqlite (default) or PostgreSQL through pg.
const { mkdirSync } = require('node:fs');
const { dirname, resolve } = require('node:path');
const { DatabaseSync } = require('node:sqlite');
const { postgresDriver, sqliteDriver } = require('@botkit/backup');
const { postgresProbe } = require('@botkit/health');

/** @param {string} url */
function isPostgresUrl(url) {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** Opens the store for a DATABASE_URL: `postgres://...` or an SQLite path. */
async function openNotesStore(databaseUrl) {
  return isPostgresUrl(databaseUrl) ? openPostgres(databaseUrl) : openSqlite(databaseUrl.replace(/^file:(\/\/)?/, ''));
}

function openSqlite(file) {
  const path = resolve(file);
  mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;');
  db.exec(`CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  )`);
  const insert = db.prepare('INSERT INTO notes (user_id, text) VALUES (?, ?)');
  const count = db.prepare('SELECT count(*) AS n FROM notes WHERE user_id = ?');
  const list = db.prepare('SELECT id, text FROM notes WHERE user_id = ? ORDER BY id DESC LIMIT ?');
  const countAll = db.prepare('SELECT count(*) AS n FROM notes');
  const ping = db.prepare('SELECT 1 AS ok');
  let open = true;
  return {
    kind: 'sqlite',
    async add(userId, text) {
      const { lastInsertRowid } = insert.run(userId, text);
      return { id: Number(lastInsertRowid), total: Number(count.get(userId).n) };
    },
    async list(userId, limit) {
      return list.all(userId, limit).map((r) => ({ id: Number(r.id), text: r.text }));
    },
    async countAll() {
      return Number(countAll.get().n);
    },
    // A probe over the app's own connection (a query, no new connection per check).
    probe: () => ({
      name: 'database',
      async check() {
        if (!open) return { status: 'unhealthy', message: 'database closed' };
        ping.get();
        return { status: 'healthy', details: { driver: 'sqlite' } };
      },
    }),
    backupDriver: () => sqliteDriver({ path }),
    async close() {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}

async function openPostgres(connectionString) {
  const pg = require('pg');
  const pool = new pg.Pool({ connectionString, max: 5, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {}); // surfaces through the probe and the next query
  await pool.query(`CREATE TABLE IF NOT EXISTS notes (
    id BIGSERIAL PRIMARY KEY, user_id BIGINT NOT NULL, text TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now()
  )`);
  let ended = false;
  return {
    kind: 'postgres',
    async add(userId, text) {
      const inserted = await pool.query('INSERT INTO notes (user_id, text) VALUES ($1, $2) RETURNING id', [
        userId,
        text,
      ]);
      const total = await pool.query('SELECT count(*) AS n FROM notes WHERE user_id = $1', [userId]);
      return { id: Number(inserted.rows[0].id), total: Number(total.rows[0].n) };
    },
    async list(userId, limit) {
      const { rows } = await pool.query('SELECT id, text FROM notes WHERE user_id = $1 ORDER BY id DESC LIMIT $2', [
        userId,
        limit,
      ]);
      return rows.map((r) => ({ id: Number(r.id), text: r.text }));
    },
    async countAll() {
      const { rows } = await pool.query('SELECT count(*) AS n FROM notes');
      return Number(rows[0].n);
    },
    probe: () => postgresProbe(pool, { name: 'database' }),
    backupDriver: () => postgresDriver({ connectionString }),
    async close() {
      if (ended) return;
      ended = true;
      await pool.end();
    },
  };
}

module.exports = { openNotesStore, isPostgresUrl };
