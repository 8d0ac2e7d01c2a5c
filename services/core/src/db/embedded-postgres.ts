import { PGlite } from '@electric-sql/pglite';
import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';

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
 * @param dataDir where the database lives; omit for a throw-away in-memory database.
 * @param from a `dump()` to start from instead of a new cluster (initdb is most of PGlite's start-up).
 */
export async function startEmbeddedPostgres(dataDir?: string, from?: Blob): Promise<EmbeddedPostgres> {
  // The extensions the migrations create (for the indexes behind listing filters) must be loaded here.
  const db = await PGlite.create(dataDir ?? 'memory://', {
    extensions: { btree_gin, pg_trgm },
    ...(from && { loadDataDir: from }),
  });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 2 });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
  const pool = new pg.Pool({ connectionString: url, max: 1, idleTimeoutMillis: 0 });
  return {
    url,
    pool,
    dump: () => db.dumpDataDir('none'),
    async stop() {
      await pool.end();
      await server.stop();
      await db.close();
    },
  };
}
