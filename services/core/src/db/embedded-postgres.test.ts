import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EmbeddedDatabaseInUse, startEmbeddedPostgres } from './embedded-postgres.ts';

describe('startEmbeddedPostgres', () => {
  it('answers the next query after one that failed, in a transaction or not', async () => {
    const db = await startEmbeddedPostgres();
    try {
      await assert.rejects(db.pool.query('SELECT 70000::smallint'), /out of range/);
      assert.deepEqual((await db.pool.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
      await assert.rejects(db.pool.query('SELECT $1::jsonb', ['"\\u0000"']), /Unicode escape/);
      assert.deepEqual((await db.pool.query('SELECT 2 AS two')).rows, [{ two: 2 }]);
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        await assert.rejects(client.query('SELECT 1/0'), /division by zero/);
        await client.query('ROLLBACK');
      } finally {
        client.release();
      }
      assert.deepEqual((await db.pool.query('SELECT 3 AS three')).rows, [{ three: 3 }]);
    } finally {
      await db.stop();
    }
  });

  it("starts from another database's dump, as a copy that goes its own way", async () => {
    const original = await startEmbeddedPostgres();
    await original.pool.query('CREATE TABLE notes (body text)');
    await original.pool.query("INSERT INTO notes VALUES ('before the dump')");
    const files = await original.dump();
    await original.pool.query("INSERT INTO notes VALUES ('after the dump')");

    const copy = await startEmbeddedPostgres(undefined, files);
    try {
      await copy.pool.query("INSERT INTO notes VALUES ('only in the copy')");
      const notes = async (db: typeof copy) =>
        (await db.pool.query<{ body: string }>('SELECT body FROM notes ORDER BY body')).rows.map(
          (r) => r.body,
        );
      assert.deepEqual(await notes(copy), ['before the dump', 'only in the copy']);
      assert.deepEqual(await notes(original), ['after the dump', 'before the dump']);
    } finally {
      await copy.stop();
      await original.stop();
    }
  });

  it("is one process's at a time, and the next one waits out the lock of a killed one", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-embedded-'));
    try {
      const first = await startEmbeddedPostgres(join(dir, 'db'));
      await first.pool.query('CREATE TABLE notes (body text)');
      await first.pool.query("INSERT INTO notes VALUES ('kept')");
      await assert.rejects(startEmbeddedPostgres(join(dir, 'db')), EmbeddedDatabaseInUse);
      await first.stop();

      // A process that opens the database and is killed while it has it: nothing releases its lock.
      const holder = spawn(
        process.execPath,
        [
          '--conditions=source',
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `import { startEmbeddedPostgres } from ${JSON.stringify(import.meta.resolve('./embedded-postgres.ts'))};
           await startEmbeddedPostgres(${JSON.stringify(join(dir, 'db'))});
           console.log('open');
           setInterval(() => {}, 1000);`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const [opened] = (await once(holder.stdout, 'data')) as [Buffer];
      assert.equal(opened.toString().trim(), 'open');
      holder.kill('SIGKILL');
      await once(holder, 'exit');

      const next = await startEmbeddedPostgres(join(dir, 'db'));
      try {
        assert.deepEqual((await next.pool.query('SELECT body FROM notes')).rows, [{ body: 'kept' }]);
      } finally {
        await next.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
