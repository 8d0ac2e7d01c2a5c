import { z } from 'zod';
import { parseDuration } from './tenants/duration.ts';
import { parseByteQuantity } from './tenants/quantity.ts';

/** Thrown when an environment variable is missing or malformed; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const port = z.coerce.number().int().min(0).max(65535);
const byteQuantity = (min: number) =>
  z.string().transform((value, ctx) => {
    const parsed = parseByteQuantity(value);
    if (parsed === undefined || parsed < min) {
      ctx.addIssue({ code: 'custom', message: `not a byte quantity of at least ${min}: ${value}` });
      return z.NEVER;
    }
    return parsed;
  });
const bytes = byteQuantity(1);
/** A whole number of seconds, or a duration such as `90m` or `24h`; in seconds. */
const seconds = z.string().transform((value, ctx) => {
  const parsed = /^[1-9][0-9]{0,9}$/.test(value) ? Number(value) : parseDuration(value);
  if (parsed === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a number of seconds nor a duration like 24h: ${value}` });
    return z.NEVER;
  }
  return parsed;
});

const envSchema = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_PUBLIC_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: z.stringbool().default(true),
  S3_BUCKET_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,7}$/)
    .default('stowage-'),
  PORT: port.default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  METRICS_PORT: port.default(9464),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  TRUST_PROXY: z.string().default('loopback, linklocal, uniquelocal'),
  SHUTDOWN_DELAY_SECONDS: z.coerce.number().int().min(0).max(300).default(0),
  MAX_FILE_SIZE_LIMIT: bytes.default(10 * 2 ** 30),
  SIGNING_SECRET: z.string().min(32, 'use at least 32 random characters').optional(),
  SERVE_CACHE_SIZE: byteQuantity(0).default(64 * 2 ** 20),
  DOWNLOAD_REDIRECT_SIZE: bytes.optional(),
  SERVE_RATE_LIMIT: z.coerce.number().int().min(1).default(6000),
  AUTH_FAILURE_LIMIT: z.coerce.number().int().min(1).default(600),
  VARIANT_MAX_PIXELS: z.coerce.number().int().min(1).max(268_402_689).default(40_000_000),
  VARIANT_MAX_INPUT_SIZE: bytes.default(100 * 2 ** 20),
  VARIANT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  VARIANT_RASTERISE_SVG: z.stringbool().default(false),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  WORKER_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[\w-]{1,64}$/)
    .default('stowage'),
  TEST_FILE_TTL: seconds.default(24 * 3600),
  KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).max(2000).default(1000),
  POD_NAME: z.string().min(1).optional(),
  POD_NAMESPACE: z.string().min(1).default('default'),
  WATCH_NAMESPACE: z.string().min(1).optional(),
  OPERATOR_LEASE_NAME: z.string().min(1).default('stowage-operator'),
  OPERATOR_LEASE_SECONDS: z.coerce.number().int().min(2).max(300).default(15),
  OPERATOR_RESYNC_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  OPERATOR_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  KEY_ROTATION_GRACE_SECONDS: z.coerce.number().int().min(0).default(86_400),
  STOWAGE_DATA_DIR: z.string().min(1).default('.stowage'),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: z.stringbool().default(false),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).default(20_000),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(13),
  WEBHOOK_POLL_MS: z.coerce.number().int().min(10).default(1000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(90),
  WEBHOOK_DELIVERY_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(30),
  UPLOAD_RESERVATION_TTL_SECONDS: z.coerce.number().int().min(3).max(3600).default(60),
  SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(30),
});

export interface S3Config {
  endpoint: string | undefined;
  /** Where clients reach the store for direct uploads, if not at `endpoint`. */
  publicEndpoint: string | undefined;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  forcePathStyle: boolean;
  /** Tenant buckets are named `<prefix><tenantId>`. */
  bucketPrefix: string;
}

/** Every setting of every Stowage process, parsed once at start and passed down. */
export interface Config {
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** undefined endpoint and credentials: the filesystem store under dataDir (embedded mode) unless AWS. */
  s3: S3Config;
  http: {
    port: number;
    host: string;
    metricsPort: number;
    /** Base of the URLs handed to clients; defaults to http://localhost:<port>. */
    publicUrl: string;
    trustProxy: string;
    /**
     * After SIGTERM, how long the API keeps serving (each answer closing its connection) before it
     * stops listening: the time a load balancer or kube-proxy takes to stop sending it requests.
     */
    shutdownDelayMs: number;
  };
  /** Upper bound for any tenant's maxFileSize. */
  maxFileSizeLimit: number;
  /** Signs expiring download URLs; every replica needs the same one. Unset: no signed URLs (dev makes one). */
  signingSecret: string | undefined;
  /** File downloads per client address per minute. */
  serveRateLimit: number;
  /** Memory per API process for small files kept to serve again (0: none). */
  serveCacheBytes: number;
  /**
   * Files at least this large are answered with a redirect to a short-lived presigned URL on the S3
   * endpoint clients reach, so their bytes skip the API. Undefined: every file streams through the API.
   */
  downloadRedirectBytes: number | undefined;
  /** Requests with a bad key per client address per minute, before 401s become 429s. */
  authFailureLimit: number;
  /** Limits on the images the worker will decode. */
  variants: { maxInputPixels: number; maxInputBytes: number; timeoutSeconds: number; rasteriseSvg: boolean };
  worker: {
    /** Jobs one worker process runs at once. */
    concurrency: number;
    /** A job whose worker stops renewing its lock for this long is handed to another worker. */
    lockMs: number;
    /** Redis key prefix of the queue, so several installations can share one Redis. */
    queuePrefix: string;
  };
  operator: {
    /** This process in the Lease: the pod name, else the host name. */
    identity: string | undefined;
    /** Where the Lease lives: the operator's own namespace. */
    leaseNamespace: string;
    leaseName: string;
    /** A leader that has not renewed for this long is replaced. */
    leaseSeconds: number;
    /** Every resource is reconciled again this often, which also refreshes its usage. */
    resyncSeconds: number;
    /** Resources reconciled at once (each one is only ever reconciled by one at a time). */
    concurrency: number;
    /** Only StorageTenants in this namespace; undefined: all namespaces. */
    watchNamespace: string | undefined;
    /** How long a rotated key keeps working after its successor is minted. */
    keyRotationGraceMs: number;
  };
  /** How long an API process may trust a key lookup; revocation reaches every replica within this. */
  keyCacheTtlMs: number;
  /** Seconds a file uploaded with a test key lives; the sweeper deletes it after that. */
  testFileTtlSeconds: number;
  webhooks: {
    /** Whether receivers may be on loopback, private, link-local or metadata addresses (tests, labs). */
    allowPrivateNetworks: boolean;
    /** How long one attempt may take, connecting included. */
    timeoutMs: number;
    /** The wait after a first failed attempt; it doubles after each further one. */
    retryBaseMs: number;
    /** Attempts before a delivery is `failed`: with the defaults the last is about a day after the first. */
    maxAttempts: number;
    /** How often a worker looks for due deliveries. */
    pollMs: number;
  };
  dataDir: string;
  logLevel: string;
  /** Days the audit log keeps an entry; the sweeper removes older ones. */
  auditRetentionDays: number;
  /** Days a finished webhook delivery (delivered or failed) is kept; the sweeper removes older ones. */
  webhookDeliveryRetentionDays: number;
  /**
   * How long an upload's quota reservation lives without renewal (its writer renews it three times
   * within that): the longest a crashed writer's reservation is held before the sweeper may release it.
   */
  reservationTtlMs: number;
  /** How often each API process sweeps expired files, abandoned reservations and uploads. */
  sweepIntervalMs: number;
}

/** Parses the configuration from the environment. A bad value throws a ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means unset, as charts and shells often produce them.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(set);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  if (Boolean(e.S3_ACCESS_KEY_ID) !== Boolean(e.S3_SECRET_ACCESS_KEY)) {
    throw new ConfigError('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together');
  }
  return {
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    s3: {
      endpoint: e.S3_ENDPOINT,
      publicEndpoint: e.S3_PUBLIC_ENDPOINT,
      region: e.S3_REGION,
      credentials:
        e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY
          ? { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY }
          : undefined,
      forcePathStyle: e.S3_FORCE_PATH_STYLE,
      bucketPrefix: e.S3_BUCKET_PREFIX,
    },
    http: {
      port: e.PORT,
      host: e.HOST,
      metricsPort: e.METRICS_PORT,
      publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
      trustProxy: e.TRUST_PROXY,
      shutdownDelayMs: e.SHUTDOWN_DELAY_SECONDS * 1000,
    },
    maxFileSizeLimit: e.MAX_FILE_SIZE_LIMIT,
    signingSecret: e.SIGNING_SECRET,
    serveRateLimit: e.SERVE_RATE_LIMIT,
    serveCacheBytes: e.SERVE_CACHE_SIZE,
    downloadRedirectBytes: e.DOWNLOAD_REDIRECT_SIZE,
    authFailureLimit: e.AUTH_FAILURE_LIMIT,
    variants: {
      maxInputPixels: e.VARIANT_MAX_PIXELS,
      maxInputBytes: e.VARIANT_MAX_INPUT_SIZE,
      timeoutSeconds: e.VARIANT_TIMEOUT_SECONDS,
      rasteriseSvg: e.VARIANT_RASTERISE_SVG,
    },
    worker: { concurrency: e.WORKER_CONCURRENCY, lockMs: e.WORKER_LOCK_MS, queuePrefix: e.QUEUE_PREFIX },
    operator: {
      identity: e.POD_NAME,
      leaseNamespace: e.POD_NAMESPACE,
      leaseName: e.OPERATOR_LEASE_NAME,
      leaseSeconds: e.OPERATOR_LEASE_SECONDS,
      resyncSeconds: e.OPERATOR_RESYNC_SECONDS,
      concurrency: e.OPERATOR_CONCURRENCY,
      watchNamespace: e.WATCH_NAMESPACE,
      keyRotationGraceMs: e.KEY_ROTATION_GRACE_SECONDS * 1000,
    },
    keyCacheTtlMs: e.KEY_CACHE_TTL_MS,
    testFileTtlSeconds: e.TEST_FILE_TTL,
    webhooks: {
      allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      pollMs: e.WEBHOOK_POLL_MS,
    },
    dataDir: e.STOWAGE_DATA_DIR,
    logLevel: e.LOG_LEVEL,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    webhookDeliveryRetentionDays: e.WEBHOOK_DELIVERY_RETENTION_DAYS,
    reservationTtlMs: e.UPLOAD_RESERVATION_TTL_SECONDS * 1000,
    sweepIntervalMs: e.SWEEP_INTERVAL_SECONDS * 1000,
  };
}
