import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { isBotkitError, redact, redactUrl } from '@botkit/core';
import { createBackups } from './backups.js';
import type { BackupInfo } from './manifest.js';
import type { Compression } from './compression.js';
import { BackupErrorCode } from './errors.js';
import { postgresDriver } from './postgres-driver.js';
import type { RetentionPolicy } from './retention.js';
import { sqliteDriver } from './sqlite-driver.js';

/** @internal Where the CLI reads and writes (injectable for tests). */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
}

/** @internal Exit codes of `botkit-backup`. */
export const ExitCode = { ok: 0, failed: 1, usage: 2, locked: 3, damaged: 4 } as const;

const USAGE = `Usage: botkit-backup <command> [options]

Commands:
  backup                 take a backup (then prune when --keep-* is given)
  list                   list backups, newest first
  verify [id]            check a backup (default: the newest); --deep also checks the dump itself
  restore <id|latest>    restore a backup (asks for confirmation unless --yes)
  prune                  remove backups the --keep-* policy does not keep (--dry-run to preview)

Options:
  --db <path|url>        SQLite file or postgres:// URL (default: $DATABASE_URL)
  --dir <dir>            backup directory (required)
  --compression <c>      zstd | gzip | none (default: zstd)
  --keep-last <n>        --keep-hourly <n>  --keep-daily <n>  --keep-weekly <n>  --keep-monthly <n>  --keep-yearly <n>
  --label <text>         label stored with the backup
  --deep                 verify: also check the dump (SQLite integrity_check, full pg_restore read)
  --dry-run              prune: only say what would be removed
  --yes                  restore: do not ask for confirmation
  --no-safety-backup     restore: skip the backup of the current state
  --pg-bin-dir <dir>     directory with pg_dump and pg_restore
  --json                 machine-readable output
  -h, --help             show this help

Exit codes: 0 ok, 1 failed, 2 usage error, 3 locked by another backup, 4 backup damaged.
`;

const KEEP = ['keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly'] as const;

class UsageError extends Error {}

function toPolicy(values: Record<string, unknown>): RetentionPolicy {
  const policy: RetentionPolicy = {};
  for (const flag of KEEP) {
    const raw = values[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${flag} expects an integer >= 0, got ${String(raw)}`);
    const key = `keep${flag[5]?.toUpperCase()}${flag.slice(6)}` as keyof RetentionPolicy;
    policy[key] = n;
  }
  return policy;
}

function line(b: BackupInfo): string {
  const mb = (b.compressedBytes / 1e6).toFixed(1);
  return `${b.id}  ${b.createdAt}  ${mb} MB  ${b.compression}${b.label ? `  ${b.label}` : ''}`;
}

/**
 * @internal Runs the `botkit-backup` command line; resolves with the exit code.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let secrets: string[] = [];
  const print = (text: string) => io.stdout.write(`${text}\n`);
  const fail = (text: string) => io.stderr.write(`botkit-backup: ${redact(text, secrets)}\n`);
  let json = false;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        db: { type: 'string' },
        dir: { type: 'string' },
        compression: { type: 'string' },
        label: { type: 'string' },
        deep: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        yes: { type: 'boolean' },
        'no-safety-backup': { type: 'boolean' },
        'pg-bin-dir': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(KEEP.map((k) => [k, { type: 'string' as const }])),
      },
    });
    json = !!values.json;
    const [command, arg] = positionals;
    if (values.help || !command) {
      io.stdout.write(USAGE);
      return values.help ? ExitCode.ok : ExitCode.usage;
    }
    if (!['backup', 'list', 'verify', 'restore', 'prune'].includes(command)) {
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
    const db = values.db ?? io.env.DATABASE_URL;
    if (!db) throw new UsageError('--db (or DATABASE_URL) is required');
    if (!values.dir) throw new UsageError('--dir is required');
    const isPostgres = /^postgres(ql)?:\/\//i.test(db);
    if (isPostgres) {
      try {
        const password = new URL(db).password;
        if (password) secrets = [password, decodeURIComponent(password)];
      } catch {
        // reported by the driver
      }
    }
    const compression = (values.compression ?? 'zstd') as Compression;
    const retention = toPolicy(values);
    let driver: ReturnType<typeof sqliteDriver>;
    let backups: ReturnType<typeof createBackups>;
    try {
      driver = isPostgres
        ? postgresDriver({ connectionString: db, ...(values['pg-bin-dir'] ? { binDir: values['pg-bin-dir'] } : {}) })
        : sqliteDriver({ path: db });
      backups = createBackups({ driver, dir: values.dir, compression, retention });
    } catch (error) {
      if (error instanceof TypeError) throw new UsageError(error.message.replace('compression', '--compression'));
      throw error;
    }
    const shownDb = isPostgres ? redactUrl(db) : driver.database;

    switch (command) {
      case 'backup': {
        const backup = await backups.backup({ label: values.label ?? 'cli' });
        const pruned = Object.keys(retention).length > 0 ? await backups.prune() : undefined;
        if (json) print(JSON.stringify({ backup, pruned: pruned?.removed.map((b) => b.id) ?? [] }));
        else {
          print(`backed up ${shownDb} -> ${backup.path}`);
          print(line(backup));
          if (pruned?.removed.length)
            print(`pruned ${pruned.removed.length}: ${pruned.removed.map((b) => b.id).join(', ')}`);
        }
        return ExitCode.ok;
      }
      case 'list': {
        const list = await backups.list();
        if (json) print(JSON.stringify(list));
        else if (list.length === 0) print(`no backups in ${backups.dir}`);
        else for (const b of list) print(line(b));
        return ExitCode.ok;
      }
      case 'verify': {
        const id = arg ?? (await backups.list())[0]?.id;
        if (!id) throw new UsageError(`no backups in ${backups.dir}`);
        const result = await backups.verify(id, { deep: !!values.deep });
        if (json) print(JSON.stringify(result));
        else if (result.ok) {
          const tables = result.tables
            ? `  tables: ${Object.entries(result.tables)
                .map(([t, n]) => `${t}=${n}`)
                .join(' ')}`
            : '';
          print(`ok ${id}${result.deep ? ' (deep)' : ''}${tables}`);
        } else print(`DAMAGED ${id}: ${result.problem ?? ''}`);
        return result.ok ? ExitCode.ok : ExitCode.damaged;
      }
      case 'restore': {
        if (!arg) throw new UsageError('restore needs a backup id (or "latest")');
        const id = arg === 'latest' ? (await backups.list())[0]?.id : arg;
        if (!id) throw new UsageError(`no backups in ${backups.dir}`);
        if (!values.yes) {
          if (!io.stdin.isTTY) throw new UsageError('restore replaces the database content: confirm with --yes');
          const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream });
          const answer = await rl.question(
            `Restore ${id} into ${shownDb}? Its current content is replaced. Type "yes": `,
          );
          rl.close();
          if (answer.trim().toLowerCase() !== 'yes') {
            fail('restore cancelled');
            return ExitCode.failed;
          }
        }
        const result = await backups.restore(id, { safetyBackup: !values['no-safety-backup'] });
        if (json) print(JSON.stringify(result));
        else {
          print(`restored ${id} into ${shownDb}`);
          if (result.safetyBackupId) print(`previous state saved as ${result.safetyBackupId}`);
        }
        return ExitCode.ok;
      }
      default: {
        const result = await backups.prune({ dryRun: !!values['dry-run'] });
        if (json)
          print(
            JSON.stringify({
              dryRun: result.dryRun,
              removed: result.removed.map((b) => b.id),
              kept: result.kept.map((b) => b.id),
            }),
          );
        else {
          const verb = result.dryRun ? 'would remove' : 'removed';
          print(`${verb} ${result.removed.length}, kept ${result.kept.length}`);
          for (const b of result.removed) print(`  ${verb} ${b.id}`);
        }
        return ExitCode.ok;
      }
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      fail(`${message}\nRun botkit-backup --help for usage.`);
      return ExitCode.usage;
    }
    if (json)
      io.stdout.write(
        `${redact(JSON.stringify({ error: { code: (error as { code?: string }).code, message } }), secrets)}\n`,
      );
    fail(message);
    if (isBotkitError(error, BackupErrorCode.Locked)) return ExitCode.locked;
    if (isBotkitError(error, BackupErrorCode.Corrupt)) return ExitCode.damaged;
    return ExitCode.failed;
  }
}
