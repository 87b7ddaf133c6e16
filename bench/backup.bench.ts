/**
 * `pnpm bench backup`: @botkit/backup against the tools an operator would script by hand.
 * SQLite ~500 MB (sqlite3 .backup, + zstd -1 / gzip -1 CLIs), PostgreSQL ~1 GB (pg_dump -Fc -Z1,
 * pg_restore). Set BENCH_BACKUP_SCALE (e.g. 0.1) for a quick smoke run; the BENCH lines say the size.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { createBackups, postgresDriver, sqliteDriver } from '@botkit/backup';
import { startPostgres } from '@botkit/test-harness';
import { interleave, report } from './lib.js';

const scale = Number(process.env.BENCH_BACKUP_SCALE ?? '1');
const work = join(tmpdir(), 'botkit-bench-backup');
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const ms = async (fn: () => Promise<unknown> | unknown) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};
const sh = (script: string) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${script} exited ${code}`))));
  });
const mb = (bytes: number) => Math.round(bytes / 1e6);

/** An SQLite database of about `targetMb` MB of bot-like rows (text that compresses like real data). */
function makeSqlite(path: string, targetMb: number) {
  if (existsSync(path) && statSync(path).size > targetMb * 0.9e6) return;
  rmSync(path, { force: true });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;');
  db.exec(
    'CREATE TABLE messages (id INTEGER PRIMARY KEY, chat_id INTEGER, user_id INTEGER, sent_at INTEGER, text TEXT)',
  );
  const rows = Math.round((targetMb * 1e6) / 415);
  db.exec(`
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
    INSERT INTO messages (chat_id, user_id, sent_at, text)
    SELECT i % 5000, i % 100000, 1700000000 + i,
           'message ' || i || ' from user ' || (i % 100000) || ': ' || hex(randomblob(64)) || ' ' ||
           substr('lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ', 1 + i % 40, 200) ||
           substr('lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ', 1 + i % 17, 200)
    FROM n`);
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
}

/** Peak RSS (MB) of a child Node process running `code` with tsx (same loader for both sides). */
function childPeakRssMb(code: string): number {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  return Number(/RSS=(\d+)/.exec(out)?.[1]) / 1024;
}

async function benchSqlite() {
  const dir = join(work, 'sqlite');
  mkdirSync(dir, { recursive: true });
  const dbPath = join(dir, 'bot.db');
  const targetMb = Math.round(500 * scale);
  makeSqlite(dbPath, targetMb);
  const size = { db_mb: mb(statSync(dbPath).size) };
  const out = join(dir, 'out');
  const fresh = () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
  };
  const ours = (compression: 'none' | 'zstd' | 'gzip') => async () => {
    fresh();
    const backups = createBackups({
      driver: sqliteDriver({ path: dbPath }),
      dir: out,
      compression,
      compressionLevel: compression === 'none' ? undefined : 1,
    });
    return ms(() => backups.backup());
  };
  const cliBackup = (pipe: string) => async () => {
    fresh();
    const snapshot = join(out, 'snap.db');
    const script = pipe
      ? `sqlite3 '${dbPath}' ".backup '${snapshot}'" && ${pipe} < '${snapshot}' > '${snapshot}.out' && sync -f '${snapshot}.out' && rm '${snapshot}'`
      : `sqlite3 '${dbPath}' ".backup '${snapshot}'"`;
    return ms(() => sh(script));
  };

  const plain = await interleave({ rounds: 5, warmup: 1, ours: ours('none'), baseline: cliBackup('') });
  // Ours also checksums the snapshot (SHA-256 in the manifest) and fsyncs a manifest: compare with
  // the same work done by hand as well, reported as extra fields.
  const hashed = await interleave({ rounds: 3, warmup: 0, ours: ours('none'), baseline: cliBackup('sha256sum') });
  report({
    subject: 'backup',
    case: 'sqlite-backup',
    metric: 'ms',
    ours: plain.ours,
    baseline: plain.baseline,
    baseline_name: 'sqlite3 .backup',
    better: 'lower',
    rounds: 5,
    extra: {
      ...size,
      baseline2_name: 'sqlite3 .backup + sha256sum',
      baseline2_ms: Math.round(hashed.baseline),
      ratio_vs_baseline2: Number((hashed.ours / hashed.baseline).toFixed(3)),
    },
  });

  const zstd = await interleave({ rounds: 3, warmup: 1, ours: ours('zstd'), baseline: cliBackup('zstd -1 -q -c') });
  report({
    subject: 'backup',
    case: 'sqlite-backup-zstd',
    metric: 'ms',
    ours: zstd.ours,
    baseline: zstd.baseline,
    baseline_name: 'sqlite3 .backup + zstd -1 CLI piped',
    better: 'lower',
    rounds: 3,
    extra: size,
  });

  const gzip = await interleave({ rounds: 3, warmup: 1, ours: ours('gzip'), baseline: cliBackup('gzip -1 -c') });
  report({
    subject: 'backup',
    case: 'sqlite-backup-gzip',
    metric: 'ms',
    ours: gzip.ours,
    baseline: gzip.baseline,
    baseline_name: 'sqlite3 .backup + gzip -1 CLI piped',
    better: 'lower',
    rounds: 3,
    extra: size,
  });

  // Peak RSS of a Node process taking a zstd backup, minus that of the same process only opening the database.
  const setup = `import { createBackups, sqliteDriver } from '@botkit/backup'; import { DatabaseSync } from 'node:sqlite'; import { rmSync } from 'node:fs';
    rmSync('${out}', { recursive: true, force: true });
    const backups = createBackups({ driver: sqliteDriver({ path: '${dbPath}' }), dir: '${out}', compression: 'zstd', compressionLevel: 1 });`;
  const rss = await interleave({
    rounds: 3,
    warmup: 0,
    ours: () =>
      childPeakRssMb(`${setup} await backups.backup(); console.log('RSS=' + process.resourceUsage().maxRSS);`),
    baseline: () =>
      childPeakRssMb(
        `${setup} const db = new DatabaseSync('${dbPath}'); db.prepare('SELECT count(*) FROM messages').get(); db.close(); console.log('RSS=' + process.resourceUsage().maxRSS);`,
      ),
  });
  report({
    subject: 'backup',
    case: 'sqlite-backup-rss',
    metric: 'mb_over_node_baseline',
    ours: rss.ours - rss.baseline,
    better: 'lower',
    rounds: 3,
    extra: { ...size, peak_rss_mb: Math.round(rss.ours), node_baseline_rss_mb: Math.round(rss.baseline), goal_mb: 64 },
  });
  rmSync(out, { recursive: true, force: true });
}

async function benchPostgres() {
  const server = await startPostgres();
  try {
    const url = await server.createDatabase('bench');
    const rows = Math.round(1_000_000 * 3.2 * scale);
    const psql = (sql: string) =>
      execFileSync(
        `${server.binDir}/psql`,
        [
          '-X',
          '-q',
          '-t',
          '-A',
          '-h',
          '127.0.0.1',
          '-p',
          String(server.port),
          '-U',
          'postgres',
          '-d',
          'bench',
          '-c',
          sql,
        ],
        {
          env: { ...process.env, PGPASSWORD: server.password },
          encoding: 'utf8',
        },
      ).trim();
    psql('CREATE TABLE messages (id bigint PRIMARY KEY, chat_id bigint, sent_at timestamptz, text text)');
    psql(
      `INSERT INTO messages SELECT g, g % 5000, now() - g * interval '1 second',
         'message ' || g || ': ' || md5(g::text) || md5((g * 7)::text) || ' ' || repeat('lorem ipsum dolor sit amet ', 6 + g % 5)
       FROM generate_series(1, ${rows}) g`,
    );
    psql('VACUUM ANALYZE messages');
    const dbBytes = Number(psql("SELECT pg_database_size('bench')"));
    const size = { db_mb: mb(dbBytes) };
    const dir = join(work, 'pg');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const baselineFile = join(dir, 'baseline.dump');
    const env = { ...process.env, PGPASSWORD: server.password };
    const conn = `-h 127.0.0.1 -p ${server.port} -U postgres -d bench`;
    const backups = createBackups({
      driver: postgresDriver({ connectionString: url, binDir: server.binDir }),
      dir: join(dir, 'ours'),
      compression: 'zstd',
      compressionLevel: 1,
    });
    let last: Awaited<ReturnType<typeof backups.backup>> | undefined;
    const dump = await interleave({
      rounds: 5,
      warmup: 1,
      ours: async () => {
        rmSync(join(dir, 'ours'), { recursive: true, force: true });
        return ms(async () => {
          last = await backups.backup();
        });
      },
      baseline: () => ms(() => runWithEnv(`'${server.binDir}/pg_dump' -Fc -Z1 ${conn} -f '${baselineFile}'`, env)),
    });
    report({
      subject: 'backup',
      case: 'postgres-dump',
      metric: 'ms',
      ours: dump.ours,
      baseline: dump.baseline,
      baseline_name: 'pg_dump -Fc -Z1',
      better: 'lower',
      rounds: 5,
      extra: {
        ...size,
        ours_mode: 'pg_dump -Fc -Z0 | zstd-1 in process',
        ours_file_mb: mb(last?.compressedBytes ?? 0),
        baseline_file_mb: mb(statSync(baselineFile).size),
      },
    });
    const id = last?.id as string;
    const restore = await interleave({
      rounds: 2,
      warmup: 0,
      ours: () => ms(() => backups.restore(id, { safetyBackup: false })),
      baseline: () =>
        ms(() =>
          runWithEnv(
            `'${server.binDir}/pg_restore' --clean --if-exists --single-transaction ${conn} '${baselineFile}'`,
            env,
          ),
        ),
    });
    report({
      subject: 'backup',
      case: 'postgres-restore',
      metric: 'ms',
      ours: restore.ours,
      baseline: restore.baseline,
      baseline_name: 'pg_restore --clean --if-exists --single-transaction (of the pg_dump -Z1 file)',
      better: 'lower',
      rounds: 2,
      extra: { ...size, safety_backup: false },
    });
    rmSync(dir, { recursive: true, force: true });
  } finally {
    await server.cleanup();
  }
}

function runWithEnv(script: string, env: NodeJS.ProcessEnv) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'inherit'], env });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  });
}

export default async function bench() {
  mkdirSync(work, { recursive: true });
  const t0 = performance.now();
  await benchSqlite();
  console.log(`# sqlite part took ${Math.round((performance.now() - t0) / 1000)} s`);
  const t1 = performance.now();
  await benchPostgres();
  console.log(`# postgres part took ${Math.round((performance.now() - t1) / 1000)} s`);
}
