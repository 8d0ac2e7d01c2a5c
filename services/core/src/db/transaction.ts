import type pg from 'pg';

/** Runs `work` in a transaction (read-only if asked) on one pooled connection; rolls back if it throws. */
export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  options: { readOnly?: boolean } = {},
): Promise<T> {
  const client = await pool.connect();
  // The pool listens for errors on idle connections only. One the server ends while it is checked out
  // and between two queries (a restart, a failover) reports it as an 'error' event, which would end the
  // process; the next query fails instead, and the broken connection is dropped rather than pooled.
  let lost: Error | undefined;
  const onError = (err: Error) => (lost = err);
  client.on('error', onError);
  try {
    await client.query(options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.off('error', onError);
    client.release(lost);
  }
}
