import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, startEmbeddedPostgres } from '@stowage/core';
import { requireEnv } from './env.ts';

/** A freshly migrated, empty database, and how to get rid of it. */
export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

async function realPostgres(): Promise<TestDatabase> {
  const server = new URL(requireEnv('DATABASE_URL'));
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(server.href);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server.href);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.href, max: 30 });
  pool.on('error', () => {}); // idle connections are cut when the database is dropped
  await migrate(pool);
  return {
    url: url.href,
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client(server.href);
      await client.connect();
      await client.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

async function embeddedPostgres(): Promise<TestDatabase> {
  const embedded = await startEmbeddedPostgres();
  await migrate(embedded.pool);
  return { url: embedded.url, pool: embedded.pool, drop: () => embedded.stop() };
}

/** Every database backend; suites that take one run against each. */
export const databaseBackends = [
  { name: 'PostgreSQL', create: realPostgres },
  { name: 'PGlite (embedded)', create: embeddedPostgres },
] as const;
