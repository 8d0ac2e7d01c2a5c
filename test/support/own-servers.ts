import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllNow } from '../../scripts/test-env/processes.ts';
import {
  minioServer,
  postgresServer,
  redisServer,
  type RestartableServer,
} from '../../scripts/test-env/servers.ts';

const starters = {
  // They are killed on purpose: what PostgreSQL acknowledged must survive that.
  postgres: (dir: string) => postgresServer(dir, undefined, { durableCommits: true }),
  redis: redisServer,
  minio: minioServer,
};
export type ServerName = keyof typeof starters;

/** Servers of a test's own, which it may kill and start again without disturbing other tests. */
export interface OwnServers<N extends ServerName> {
  servers: Record<N, RestartableServer>;
  /** Their settings together, as Stowage processes read them (DATABASE_URL, REDIS_URL, S3_*). */
  settings: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts `names` with the test environment launcher's own code, on free ports, with data in a fresh
 * temporary directory. They are killed when the test process exits, however it exits.
 */
export async function startOwnServers<N extends ServerName>(names: N[]): Promise<OwnServers<N>> {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-own-'));
  chmodSync(dir, 0o755); // PostgreSQL may run as another user and must reach its data directory
  process.on('exit', killAllNow);
  const started = await Promise.all(
    names.map(async (name) => {
      const sub = join(dir, name);
      mkdirSync(sub);
      return [name, await starters[name](sub)] as const;
    }),
  );
  const servers = Object.fromEntries(started) as Record<N, RestartableServer>;
  return {
    servers,
    settings: Object.assign({}, ...started.map(([, server]) => server.settings)) as Record<string, string>,
    async close() {
      await Promise.all(started.map(([, server]) => server.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
