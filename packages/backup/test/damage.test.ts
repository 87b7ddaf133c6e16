import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { isBotkitError } from '@botkit/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackupInfo, type Backups, createBackups, sqliteDriver } from '../src/index.js';
import { createSqlite, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function fingerprint(db: DatabaseSync): string {
  return JSON.stringify(db.prepare('SELECT id, version, hex(payload) AS p FROM items ORDER BY id').all());
}

describe.each(['zstd', 'gzip', 'none'] as const)('damage detection (%s)', (compression) => {
  let db: DatabaseSync;
  let backups: Backups;
  let backup: BackupInfo;
  let original: Buffer;
  let manifest: string;
  let before: string;
  const dbPath = join(tmp.path, `${compression}.db`);

  beforeAll(async () => {
    db = createSqlite(dbPath, 300, 200);
    backups = createBackups({ driver: sqliteDriver({ path: dbPath }), dir: join(tmp.path, compression), compression });
    backup = await backups.backup();
    original = readFileSync(backup.path);
    manifest = readFileSync(backup.manifestPath, 'utf8');
    // Change the live database so a wrongly accepted restore would show.
    db.exec("UPDATE items SET version = 'live'");
    before = fingerprint(db);
  });
  afterAll(() => db.close());

  /** Applies damage, expects verify (quick and deep) to fail and restore to refuse, then repairs. */
  async function expectCaught(damage: { file?: Buffer; manifest?: string }, quickCatches = true) {
    if (damage.file) writeFileSync(backup.path, damage.file);
    if (damage.manifest !== undefined) writeFileSync(backup.manifestPath, damage.manifest);
    try {
      if (quickCatches) expect((await backups.verify(backup.id)).ok).toBe(false);
      const deep = await backups.verify(backup.id, { deep: true });
      expect(deep.ok).toBe(false);
      expect(deep.problem).toBeTruthy();
      const error = await backups.restore(backup.id, { safetyBackup: false }).then(
        () => 'restored',
        (e: unknown) => e,
      );
      expect(isBotkitError(error, 'BOTKIT_BACKUP_CORRUPT')).toBe(true);
      expect(fingerprint(db)).toBe(before);
    } finally {
      writeFileSync(backup.path, original);
      writeFileSync(backup.manifestPath, manifest);
    }
  }

  it('the undamaged backup verifies (deep) before and after the damage rounds', async () => {
    expect(await backups.verify(backup.id, { deep: true })).toMatchObject({ ok: true, tables: { items: 300 } });
  });

  it('catches every truncation', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: original.length - 1 }), async (length) => {
        await expectCaught({ file: original.subarray(0, length) });
      }),
      { numRuns: 15 },
    );
  });

  it('catches every byte flip', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: original.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (position, mask) => {
          const damaged = Buffer.from(original);
          damaged[position] = (damaged[position] as number) ^ mask;
          await expectCaught({ file: damaged });
        },
      ),
      { numRuns: 15 },
    );
  });

  it('catches manifest mismatches (checksum, sizes, id, broken JSON)', async () => {
    const m = JSON.parse(manifest) as Record<string, unknown>;
    const flipHex = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
    const variants: Array<[Record<string, unknown> | string, boolean]> = [
      [{ ...m, sha256: flipHex(m.sha256 as string) }, true],
      [{ ...m, compressedBytes: (m.compressedBytes as number) + 1 }, true],
      [{ ...m, compressedBytes: (m.compressedBytes as number) - 1 }, true],
      [{ ...m, uncompressedSha256: flipHex(m.uncompressedSha256 as string) }, false],
      [{ ...m, uncompressedBytes: (m.uncompressedBytes as number) - 1 }, false],
      [{ ...m, id: 'sqlite-other' }, true],
      [manifest.slice(0, manifest.length / 2), true],
      ['', true],
    ];
    for (const [variant, quickCatches] of variants) {
      const text = typeof variant === 'string' ? variant : JSON.stringify(variant);
      // uncompressedSha256/uncompressedBytes only show once the file is decompressed (deep verify, restore);
      // with compression 'none' the stored file is the dump, so its byte count still matches.
      await expectCaught({ manifest: text }, quickCatches);
    }
    expect(await backups.verify(backup.id, { deep: true })).toMatchObject({ ok: true });
  });
});
