import { randomBytes } from 'node:crypto';

/** A setting exported by the test environment launcher (`make test` / `make env`). */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run integration tests through 'make test' (or inside 'make env')`);
  }
  return value;
}

/** A short random suffix so tests sharing one server never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
