import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDependencyUnavailable, withTransaction } from '@stowage/core';
import { databaseBackends, type TestDatabase } from '../support/databases.ts';
import { eventually } from '../support/poll.ts';

describe('withTransaction on PostgreSQL', () => {
  let db: TestDatabase;
  before(async () => {
    db = await databaseBackends[0].create();
  });
  after(() => db.drop());

  it('fails, without ending the process, when the server ends its connection between two queries', async () => {
    const failed = await withTransaction(db.pool, async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // As a server shutting down does: the connection gets a FATAL error while no query runs on it.
      await db.pool.query(
        'SELECT pg_terminate_backend($1)',
        rows.map((r) => r.pid),
      );
      await eventually(async () => {
        const alive = await db.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [rows[0]!.pid]);
        return alive.rowCount === 0 || undefined;
      }, 'the server to end the connection');
      await client.query('SELECT 1');
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(isDependencyUnavailable(failed), `unavailable, not a bug: ${String(failed)}`);
    const { rows } = await db.pool.query<{ one: number }>('SELECT 1 AS one');
    assert.equal(rows[0]!.one, 1, 'the pool goes on with a new connection');
  });
});
