import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
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

const root = resolve(import.meta.dirname, '../..');
const migrations = join(root, 'services/core/src/db/migrations');

/** Names the cluster files below by what they hold: the installed PGlite and the migrations. */
async function clusterName(): Promise<string> {
  const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8'));
  const hash = createHash('sha256').update(lock.packages['node_modules/@electric-sql/pglite'].version);
  for (const name of (await readdir(migrations)).filter((f) => f.endsWith('.sql')).sort()) {
    hash.update(name).update(await readFile(join(migrations, name)));
  }
  return `pglite-${hash.digest('hex').slice(0, 16)}.tar`;
}

/**
 * The files of a new, migrated PGlite cluster, made once and kept under node_modules/.cache:
 * initdb is most of PGlite's start-up (seconds, and far more on a busy machine), and starting from
 * its files takes a fraction of that.
 */
async function migratedCluster(): Promise<Blob> {
  const dir = join(root, 'node_modules/.cache/stowage');
  const file = join(dir, await clusterName());
  try {
    return new Blob([await readFile(file)]);
  } catch {
    const fresh = await startEmbeddedPostgres();
    await migrate(fresh.pool);
    const files = await fresh.dump();
    await fresh.stop();
    await mkdir(dir, { recursive: true });
    // Test files run in parallel processes: each writes a file of its own, the last rename wins.
    await writeFile(`${file}.${process.pid}`, Buffer.from(await files.arrayBuffer()));
    await rename(`${file}.${process.pid}`, file);
    return files;
  }
}

async function embeddedPostgres(): Promise<TestDatabase> {
  const embedded = await startEmbeddedPostgres(undefined, await migratedCluster());
  return { url: embedded.url, pool: embedded.pool, drop: () => embedded.stop() };
}

/** Every database backend; suites that take one run against each. */
export const databaseBackends = [
  { name: 'PostgreSQL', create: realPostgres },
  { name: 'PGlite (embedded)', create: embeddedPostgres },
] as const;
