import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Probe } from '@botkit/core';
import { type BackupDriver, postgresDriver, sqliteDriver } from '@botkit/backup';
import { postgresProbe } from '@botkit/health';
import pg from 'pg';

/** One saved note. */
export interface Note {
  id: number;
  text: string;
  createdAt: string;
}

/** Where /note keeps its data: SQLite (default) or PostgreSQL. */
export interface NotesStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Saves a note and returns its id and how many notes the user has. */
  add(userId: number, text: string): Promise<{ id: number; total: number }>;
  /** The user's latest notes, newest first. */
  list(userId: number, limit: number): Promise<Note[]>;
  /** All notes of everyone (for the demo and tests). */
  countAll(): Promise<number>;
  /** Health probe of the database. */
  probe(): Probe;
  /** Backup driver of `@botkit/backup` for this database. */
  backupDriver(): BackupDriver;
  close(): Promise<void>;
}

/** Whether a DATABASE_URL points at PostgreSQL. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** Opens the store for a DATABASE_URL: `postgres://...` or an SQLite path (`file:` prefix allowed). */
export async function openNotesStore(databaseUrl: string): Promise<NotesStore> {
  return isPostgresUrl(databaseUrl) ? openPostgres(databaseUrl) : openSqlite(databaseUrl.replace(/^file:(\/\/)?/, ''));
}

function openSqlite(file: string): NotesStore {
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
  db.exec('CREATE INDEX IF NOT EXISTS notes_user ON notes (user_id, id)');
  const insert = db.prepare('INSERT INTO notes (user_id, text) VALUES (?, ?)');
  const count = db.prepare('SELECT count(*) AS n FROM notes WHERE user_id = ?');
  const list = db.prepare('SELECT id, text, created_at FROM notes WHERE user_id = ? ORDER BY id DESC LIMIT ?');
  const countAll = db.prepare('SELECT count(*) AS n FROM notes');
  const ping = db.prepare('SELECT 1 AS ok');
  let open = true;
  return {
    kind: 'sqlite',
    async add(userId, text) {
      const { lastInsertRowid } = insert.run(userId, text);
      const row = count.get(userId) as { n: number };
      return { id: Number(lastInsertRowid), total: Number(row.n) };
    },
    async list(userId, limit) {
      const rows = list.all(userId, limit) as { id: number; text: string; created_at: string }[];
      return rows.map((r) => ({ id: Number(r.id), text: r.text, createdAt: r.created_at }));
    },
    async countAll() {
      return Number((countAll.get() as { n: number }).n);
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

async function openPostgres(connectionString: string): Promise<NotesStore> {
  const pool = new pg.Pool({ connectionString, max: 5, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {}); // idle client errors surface through the probe and the next query
  await pool.query(`CREATE TABLE IF NOT EXISTS notes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL,
    text TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
  )`);
  await pool.query('CREATE INDEX IF NOT EXISTS notes_user ON notes (user_id, id)');
  let ended = false;
  return {
    kind: 'postgres',
    async add(userId, text) {
      const inserted = await pool.query<{ id: string }>(
        'INSERT INTO notes (user_id, text) VALUES ($1, $2) RETURNING id',
        [userId, text],
      );
      const total = await pool.query<{ n: string }>('SELECT count(*) AS n FROM notes WHERE user_id = $1', [userId]);
      return { id: Number(inserted.rows[0]?.id), total: Number(total.rows[0]?.n) };
    },
    async list(userId, limit) {
      const { rows } = await pool.query<{ id: string; text: string; created_at: Date }>(
        'SELECT id, text, created_at FROM notes WHERE user_id = $1 ORDER BY id DESC LIMIT $2',
        [userId, limit],
      );
      return rows.map((r) => ({ id: Number(r.id), text: r.text, createdAt: r.created_at.toISOString() }));
    },
    async countAll() {
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM notes');
      return Number(rows[0]?.n);
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
