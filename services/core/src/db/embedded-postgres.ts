import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { ConfigError } from '../config.ts';
import lockfile from 'proper-lockfile';

export interface EmbeddedPostgres {
  /** A postgres:// URL, so the same `pg` code runs against it as against PostgreSQL. */
  url: string;
  /** The one pool that may use the database (see below). */
  pool: pg.Pool;
  /** The database's files as a tarball, to start another database from (`from` below). */
  dump(): Promise<Blob>;
  stop(): Promise<void>;
}

/**
 * PostgreSQL compiled to WebAssembly (PGlite), served over the Postgres wire protocol on loopback.
 *
 * PGlite is a single session, and the socket server's multiplexer interleaves the extended-protocol
 * messages (Parse/Bind/Execute) of concurrent connections, which breaks their unnamed statements. So one
 * connection is in use at a time, held open by a pool of one: queries queue in the pool, and a
 * transaction owns the session until it ends. The server still admits a second: the pool drops a
 * connection whose query failed and opens another at once, before the server has let go of the first,
 * and a server that admitted only one would refuse it (the query after any SQL error would fail).
 *
 * A data directory is one process's at a time (a lock next to it, `<dataDir>.lock`): a second process,
 * say `stowage check` while `stowage dev` runs, gets EmbeddedDatabaseInUse instead of two writers
 * corrupting the files. The lock goes with the process however it exits, short of SIGKILL; one left by a
 * killed process goes stale within seconds, and the next start waits that out.
 *
 * @param dataDir where the database lives; omit for a throw-away in-memory database.
 * @param from a `dump()` to start from instead of a new cluster (initdb is most of PGlite's start-up).
 */
export async function startEmbeddedPostgres(dataDir?: string, from?: Blob): Promise<EmbeddedPostgres> {
  const unlock = dataDir === undefined ? undefined : await lockDataDir(dataDir);
  try {
    // The extensions the migrations create (for the indexes behind listing filters) must be loaded here.
    const db = await PGlite.create(dataDir ?? 'memory://', {
      extensions: { btree_gin, pg_trgm },
      ...(from && { loadDataDir: from }),
    });
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 2 });
    await server.start().catch(async (err: unknown) => {
      await db.close();
      throw err;
    });
    const url = `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
    const pool = new pg.Pool({ connectionString: url, max: 1, idleTimeoutMillis: 0 });
    return {
      url,
      pool,
      dump: () => db.dumpDataDir('none'),
      async stop() {
        try {
          await pool.end();
          await server.stop();
          await db.close();
        } finally {
          await unlock?.();
        }
      },
    };
  } catch (err) {
    await unlock?.();
    throw err;
  }
}

/** Another process has the embedded database of `dataDir` open: the configured directory is not usable. */
export class EmbeddedDatabaseInUse extends ConfigError {
  constructor(readonly dataDir: string) {
    super(
      `the embedded database in ${dataDir} is open in another process (a running stowage dev?): stop it first`,
    );
  }
}

/** How old a lock nobody refreshes is before it counts as a killed process's; refreshed at half this. */
const LOCK_STALE_MS = 5000;

async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  try {
    return await lockfile.lock(dataDir, {
      stale: LOCK_STALE_MS,
      // Long enough for the lock of a process killed just now to go stale.
      retries: { retries: 7, factor: 1, minTimeout: 1000 },
      // A refresh came too late (the event loop was blocked for longer than LOCK_STALE_MS), so another
      // process may have taken the lock since: keep going (stopping here would lose work), but say so.
      onCompromised: (err) => process.emitWarning(`embedded database lock: ${err.message}`),
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') throw new EmbeddedDatabaseInUse(dataDir);
    throw err;
  }
}
