import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

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
});
