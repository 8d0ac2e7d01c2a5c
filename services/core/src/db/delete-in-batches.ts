import type pg from 'pg';

/** Rows removed per statement, so that a large backlog never holds one long transaction. */
const BATCH = 10_000;

/**
 * Deletes every row of `table` that `where` (SQL over the table's columns, with `params`) selects, a batch
 * of rows by `id` at a time; resolves to how many went. For the sweeper's retention passes.
 */
export async function deleteInBatches(
  db: pg.Pool | pg.PoolClient,
  table: string,
  where: string,
  params: unknown[],
): Promise<number> {
  let removed = 0;
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE ${where} LIMIT ${BATCH})`,
      params,
    );
    removed += rowCount ?? 0;
    if ((rowCount ?? 0) < BATCH) return removed;
  }
}
