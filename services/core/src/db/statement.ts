import type pg from 'pg';

/**
 * One statement built of common table expressions that modules contribute, each with its parameters.
 * PostgreSQL runs every data-modifying part of a statement to completion and commits them together or
 * not at all, so a change that spans several modules' tables costs one round trip and no transaction.
 * A part sees the others' results only through the rows they return (all read one snapshot).
 */
export class Statement {
  readonly values: unknown[] = [];
  private readonly parts: string[] = [];

  /** A placeholder for `value`. */
  param(value: unknown): string {
    return `$${this.values.push(value)}`;
  }

  /** Adds the part `name AS (sql)`; resolves to its name, to read its rows from. */
  with(name: string, sql: string): string {
    this.parts.push(`${name} AS (${sql})`);
    return name;
  }

  /** Runs the parts, then `select` (which may read them), on `db`. */
  run<R extends pg.QueryResultRow>(
    db: pg.Pool | pg.PoolClient,
    select = 'SELECT 1',
  ): Promise<pg.QueryResult<R>> {
    return db.query<R>(`WITH ${this.parts.join(',\n')}\n${select}`, this.values);
  }
}
