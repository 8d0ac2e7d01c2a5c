/**
 * The k6 load tests (load-tests/k6/), each with bounded duration and its own thresholds, against a stack
 * started here: a fresh PostgreSQL database, the launcher's Redis and MinIO, a `stowage worker`, and two
 * `stowage api` processes behind a round-robin proxy. Exits non-zero if any script fails its thresholds.
 *
 *   make load-test               # LOAD_TEST_DURATION=15s per script; LOAD_TEST_ONLY=mixed,uploads
 */
import { createTenant, generous, runK6, startLoadStack } from './load-stack.ts';

const duration = process.env.LOAD_TEST_DURATION ?? '15s';
const only = process.env.LOAD_TEST_ONLY?.split(',');

interface Script {
  name: string;
  tenant: Record<string, unknown>;
  env?: Record<string, string>;
}

const quotaRace = { quota: 1_000_000, file: 64 * 1024 };
const rateLimit = { list: 40, upload: 15 };

const scripts: Script[] = [
  { name: 'uploads', tenant: { rateLimits: generous } },
  { name: 'serve-public', tenant: { rateLimits: generous } },
  { name: 'serve-protected', tenant: { rateLimits: generous } },
  { name: 'mixed', tenant: { rateLimits: generous } },
  {
    name: 'rate-limit',
    tenant: {
      rateLimits: { ...generous, list: rateLimit.list, upload: rateLimit.upload },
      // Listed from the first request on, before any upload into it has landed.
      buckets: [{ name: 'any' }],
    },
    env: { LIST_LIMIT: String(rateLimit.list), UPLOAD_LIMIT: String(rateLimit.upload), DURATION: '10s' },
  },
  {
    name: 'quota-race',
    tenant: { rateLimits: generous, quota: { storage: quotaRace.quota } },
    env: { QUOTA_BYTES: String(quotaRace.quota), FILE_BYTES: String(quotaRace.file) },
  },
];

async function main(): Promise<number> {
  const cleanups: (() => Promise<void>)[] = [];
  const failed: string[] = [];
  const started = performance.now();
  try {
    const stack = await startLoadStack(cleanups);
    console.log(`stack: 2 API replicas and a worker behind ${stack.url}`);
    for (const script of scripts.filter((s) => !only || only.includes(s.name))) {
      const tenant = await createTenant(stack, script.name, script.tenant);
      const code = await runK6(script.name, {
        DURATION: duration,
        STOWAGE_URL: stack.url,
        STOWAGE_KEY: tenant.key,
        STOWAGE_TENANT: tenant.id,
        ...script.env,
      });
      if (code !== 0) failed.push(`${script.name} (k6 exited ${code})`);
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => console.error(err));
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  if (failed.length) console.error(`\nload tests failed: ${failed.join(', ')} (${seconds} s)`);
  else console.log(`\nevery load test passed its thresholds (${seconds} s)`);
  return failed.length ? 1 : 0;
}

process.exitCode = await main();
