import type pg from 'pg';

/** The text of a query as pg takes it: a string or a config object. */
const textOf = (query: unknown): string =>
  typeof query === 'string' ? query : String((query as { text?: unknown }).text ?? '');

/** `target` with its `query` method reporting each query's text to `onQuery` before sending it. */
function reporting<T extends object>(
  target: T,
  onQuery: (text: string) => void,
  wrap: Partial<Record<string | symbol, (original: T) => unknown>> = {},
): T {
  return new Proxy(target, {
    get(object, property) {
      const wrapper = wrap[property];
      if (wrapper) return wrapper(object);
      const value: unknown = Reflect.get(object, property, object);
      if (property === 'query') {
        return (...args: unknown[]) => {
          onQuery(textOf(args[0]));
          return (value as (...a: unknown[]) => unknown).apply(object, args);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(object) : value;
    },
  });
}

/**
 * `pool`, with every query sent through it appended to `sent`: those of `pool.query` and those of the
 * clients `pool.connect` hands out (BEGIN and COMMIT included). Each is one round trip to the database.
 * The pool itself is shared, so this works on PGlite's single connection too.
 */
export function countingPool(pool: pg.Pool, sent: string[]): pg.Pool {
  const note = (text: string) => sent.push(text.replace(/\s+/g, ' ').trim());
  return reporting(pool, note, {
    connect: (original) => async () => reporting(await original.connect(), note),
  });
}
