import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { Socket } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import {
  freePort,
  killProcess,
  runToCompletion,
  startProcess,
  waitUntil,
  type ServerProcess,
} from './processes.ts';

/** The settings a started server adds to the tests' environment. */
export type Settings = Record<string, string>;

const secret = () => randomBytes(18).toString('base64url');

async function httpOk(url: string, init?: RequestInit): Promise<boolean> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
  return res.ok;
}

/** PostgreSQL refuses to run as root, so as root it runs as the `postgres` user the package creates. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  const found = majors.map((m) => join(base, m, 'bin')).find((dir) => existsSync(join(dir, 'postgres')));
  if (!found) throw new Error('PostgreSQL is not installed: run `make tools`');
  return found;
}

const LOOPBACK = '127.0.0.1';

/**
 * A server on a port and data directory of its own that can be killed and started again on both (the
 * fault-injection suite stops PostgreSQL, Redis and MinIO under traffic without disturbing other tests).
 */
export interface RestartableServer {
  settings: Settings;
  /** Kills the server's process group, as a crash would, and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data, and waits until it answers. */
  restart(): Promise<void>;
}

/** Runs `launch` now and on every restart; each run must wait until the server answers. */
async function restartable(
  settings: Settings,
  launch: () => Promise<ServerProcess>,
): Promise<RestartableServer> {
  let current = await launch();
  return {
    settings,
    kill: () => killProcess(current),
    async restart() {
      current = await launch();
    },
  };
}

export async function startPostgres(dir: string, host = LOOPBACK): Promise<Settings> {
  return (await postgresServer(dir, host)).settings;
}

/**
 * With `durableCommits`, a commit is on disk (in the OS's cache, fsync stays off) before it is
 * acknowledged, so that killing the server loses no committed transaction; without, the launcher's
 * fastest settings, for servers nobody kills.
 */
export async function postgresServer(
  dir: string,
  host = LOOPBACK,
  { durableCommits = false } = {},
): Promise<RestartableServer> {
  const bin = postgresBinDir();
  const data = join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  const user = postgresUser();
  if (user) chownSync(data, user.uid, user.gid);
  const port = await freePort(host);
  await runToCompletion(
    'initdb',
    join(bin, 'initdb'),
    ['-D', data, '-U', 'stowage', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'],
    join(dir, 'initdb.log'),
    user,
  );
  // initdb trusts loopback only; off loopback (pods of `make e2e`), trust the networks the host is on.
  if (host !== LOOPBACK) appendFileSync(join(data, 'pg_hba.conf'), 'host all all samenet trust\n');
  const admin = `postgres://stowage@${host}:${port}/postgres`;
  const launch = async () => {
    // Durability settings off: the data is thrown away after the run.
    const server = startProcess(
      'postgres',
      join(bin, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-c',
        `listen_addresses=${host}`,
        '-k',
        data,
        '-c',
        'fsync=off',
        '-c',
        `synchronous_commit=${durableCommits ? 'on' : 'off'}`,
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=300',
      ],
      join(dir, 'postgres.log'),
      user,
    );
    await waitUntil(server, async () => {
      const client = new pg.Client(admin);
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } finally {
        await client.end().catch(() => {});
      }
    });
    return server;
  };
  const server = await restartable({ DATABASE_URL: `postgres://stowage@${host}:${port}/stowage` }, launch);
  const client = new pg.Client(admin);
  await client.connect();
  await client.query('CREATE DATABASE stowage');
  await client.end();
  return server;
}

function redisPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
    socket.once('data', (data) => {
      resolve(data.toString().startsWith('+PONG'));
      socket.destroy();
    });
    socket.connect(port, host, () => socket.write('PING\r\n'));
  });
}

export async function startRedis(dir: string, host = LOOPBACK): Promise<Settings> {
  return (await redisServer(dir, host)).settings;
}

export async function redisServer(dir: string, host = LOOPBACK): Promise<RestartableServer> {
  const port = await freePort(host);
  return restartable({ REDIS_URL: `redis://${host}:${port}` }, async () => {
    const server = startProcess(
      'redis',
      'redis-server',
      // Off loopback, protected mode would refuse every client: the server has no password.
      [
        ...['--port', String(port), '--bind', host, '--dir', dir, '--save', '', '--appendonly', 'no'],
        ...(host === LOOPBACK ? [] : ['--protected-mode', 'no']),
      ],
      join(dir, 'redis.log'),
    );
    await waitUntil(server, () => redisPing(host, port));
    return server;
  });
}

export async function startMinio(dir: string, host = LOOPBACK): Promise<Settings> {
  return (await minioServer(dir, host)).settings;
}

export async function minioServer(dir: string, host = LOOPBACK): Promise<RestartableServer> {
  const [port, consolePort] = [await freePort(host), await freePort(host)];
  const user = 'stowage-test';
  const password = secret();
  const endpoint = `http://${host}:${port}`;
  const settings = {
    S3_ENDPOINT: endpoint,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: user,
    S3_SECRET_ACCESS_KEY: password,
    S3_FORCE_PATH_STYLE: 'true',
  };
  return restartable(settings, async () => {
    const server = startProcess(
      'minio',
      'minio',
      [
        'server',
        join(dir, 'data'),
        '--quiet',
        '--address',
        `${host}:${port}`,
        '--console-address',
        `${host}:${consolePort}`,
      ],
      join(dir, 'minio.log'),
      {
        env: {
          MINIO_ROOT_USER: user,
          MINIO_ROOT_PASSWORD: password,
          MINIO_BROWSER: 'off',
          MINIO_UPDATE: 'off',
        },
      },
    );
    await waitUntil(server, () => httpOk(`${endpoint}/minio/health/ready`));
    return server;
  });
}

async function startEtcd(dir: string): Promise<string> {
  const [port, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const server = startProcess(
    'etcd',
    'etcd',
    [
      '--data-dir',
      join(dir, 'data'),
      '--listen-client-urls',
      url,
      '--advertise-client-urls',
      url,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `default=${peer}`,
      '--unsafe-no-fsync',
      '--log-level',
      'warn',
    ],
    join(dir, 'etcd.log'),
  );
  await waitUntil(server, async () => {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok && ((await res.json()) as { health?: string }).health === 'true';
  });
  return url;
}

/** GET over TLS, trusting only the given CA; resolves to the status code. */
function httpsStatus(url: string, ca: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function kubeconfig(server: string, caFile: string, token: string): string {
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'stowage-test', cluster: { server, 'certificate-authority': caFile } }],
      users: [{ name: 'admin', user: { token } }],
      contexts: [{ name: 'stowage-test', context: { cluster: 'stowage-test', user: 'admin' } }],
      'current-context': 'stowage-test',
    },
    null,
    2,
  );
}

/** etcd, then a kube-apiserver on it with an admin token (group system:masters) and a kubeconfig. */
export async function startKubernetes(dir: string): Promise<Settings> {
  const etcdDir = join(dir, 'etcd');
  mkdirSync(etcdDir);
  const etcdUrl = await startEtcd(etcdDir);
  const certs = join(dir, 'certs');
  mkdirSync(certs);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(certs, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(join(certs, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  const token = secret();
  writeFileSync(join(certs, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
  const port = await freePort();
  const server = startProcess(
    'kube-apiserver',
    'kube-apiserver',
    [
      '--etcd-servers',
      etcdUrl,
      '--cert-dir',
      certs,
      '--secure-port',
      String(port),
      '--bind-address',
      '127.0.0.1',
      '--advertise-address',
      '127.0.0.1',
      '--service-cluster-ip-range',
      '10.0.0.0/24',
      '--authorization-mode',
      'RBAC',
      '--token-auth-file',
      join(certs, 'tokens.csv'),
      '--service-account-issuer',
      'https://kubernetes.default.svc.cluster.local',
      '--service-account-key-file',
      join(certs, 'sa.pub'),
      '--service-account-signing-key-file',
      join(certs, 'sa.key'),
      '--disable-admission-plugins',
      'ServiceAccount',
      '--allow-privileged',
    ],
    join(dir, 'kube-apiserver.log'),
  );
  const url = `https://127.0.0.1:${port}`;
  // The apiserver writes its self-signed serving certificate (and the CA that signed it) to --cert-dir.
  const caFile = join(certs, 'apiserver.crt');
  await waitUntil(
    server,
    async () =>
      existsSync(caFile) && (await httpsStatus(`${url}/readyz`, readFileSync(caFile, 'utf8'), token)) === 200,
  );
  const configFile = join(dir, 'kubeconfig');
  writeFileSync(configFile, kubeconfig(url, caFile, token), { mode: 0o600 });
  return { KUBECONFIG: configFile, ETCD_ENDPOINTS: etcdUrl };
}

/** Prometheus scraping every file-discovered target in PROMETHEUS_TARGETS_DIR/*.json each second. */
export async function startPrometheus(dir: string): Promise<Settings> {
  const targets = join(dir, 'targets');
  mkdirSync(targets);
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global: {scrape_interval: 1s, evaluation_interval: 1s}',
      'scrape_configs:',
      '  - job_name: file-targets',
      `    file_sd_configs: [{files: ['${targets}/*.json'], refresh_interval: 1s}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = startProcess(
    'prometheus',
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
    ],
    join(dir, 'prometheus.log'),
  );
  await waitUntil(server, () => httpOk(`${url}/-/ready`));
  return { PROMETHEUS_URL: url, PROMETHEUS_TARGETS_DIR: targets };
}
