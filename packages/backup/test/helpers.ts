import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** A temporary directory removed by the returned cleanup. */
export function tempDir(prefix = 'botkit-backup-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Creates an SQLite database in WAL mode with `rows` rows of ~`rowBytes` in table `items`. */
export function createSqlite(path: string, rows = 100, rowBytes = 100): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  db.exec('CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, version TEXT NOT NULL, payload BLOB)');
  db.exec('CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)');
  const insert = db.prepare('INSERT INTO items (version, payload) VALUES (?, randomblob(?))');
  db.exec('BEGIN');
  for (let i = 0; i < rows; i++) insert.run('a', rowBytes);
  db.exec('COMMIT');
  return db;
}

/** Row count of a table. */
export function count(db: DatabaseSync, table = 'items'): number {
  return Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
}

/** Resolves when `child` printed a line containing `text`. */
export function waitForLine(
  child: { stdout: NodeJS.ReadableStream | null },
  text: string,
  timeoutMs = 20_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${text}; got ${buffer.slice(-500)}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      if (buffer.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
