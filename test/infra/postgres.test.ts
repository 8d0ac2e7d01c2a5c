import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { requireEnv, uniqueName } from '../support/env.ts';

describe('PostgreSQL (real server, via pg)', () => {
  let pool: pg.Pool;
  before(() => {
    pool = new pg.Pool({ connectionString: requireEnv('DATABASE_URL') });
  });
  after(() => pool.end());

  it('answers a query', async () => {
    const { rows } = await pool.query<{ version: string }>('SELECT version()');
    assert.match(rows[0]!.version, /^PostgreSQL \d+/);
  });

  it('keeps what a transaction commits and drops what it rolls back', async () => {
    const table = uniqueName('t').replace('-', '_');
    await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL)`);
    await pool.query(`INSERT INTO ${table} VALUES ($1, $2)`, [1, 'kept']);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${table} VALUES ($1, $2)`, [2, 'dropped']);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    const { rows } = await pool.query(`SELECT id, name FROM ${table} ORDER BY id`);
    assert.deepEqual(rows, [{ id: 1, name: 'kept' }]);
    await assert.rejects(pool.query(`INSERT INTO ${table} VALUES (1, 'again')`), /duplicate key/);
  });
});
