/**
 * Benchmark (not a test): how long `stowage operator` takes to make BENCH_TENANTS StorageTenants (200 by
 * default), applied at once, Ready: tenant rows in PostgreSQL, buckets in MinIO, a key Secret each, one
 * status write each, on the kube-apiserver of the test environment. Writes a row to BENCHMARKS.md.
 *
 *   make bench-operator
 */
import { databaseBackends } from '../test/support/databases.ts';
import { uniqueName } from '../test/support/env.ts';
import { createNamespace, deleteNamespace, installStorageTenantCrd } from '../test/support/kube.ts';
import { OperatorHarness, TenantApi } from '../test/support/operator.ts';
import { eventually } from '../test/support/poll.ts';
import { machine, recordBenchmarkRow } from './benchmarks-file.ts';

const count = Number(process.env.BENCH_TENANTS ?? 200);
const concurrency = process.env.OPERATOR_CONCURRENCY ?? '8';

async function main() {
  await installStorageTenantCrd();
  const namespace = uniqueName('bench');
  await createNamespace(namespace);
  const db = await databaseBackends[0].create();
  const operator = await new OperatorHarness({
    namespace,
    databaseUrl: db.url,
    publicUrl: 'https://files.example.com',
    // Resyncs would only add load to the measurement.
    env: { OPERATOR_CONCURRENCY: concurrency, OPERATOR_RESYNC_SECONDS: '3600' },
  }).start();
  try {
    const tenants = new TenantApi(namespace);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: count }, (_, i) => tenants.create(`tenant-${i}`, { apiKeys: [{ name: 'app' }] })),
    );
    const applied = performance.now();
    await eventually(async () => (await tenants.readyCount()) === count || undefined, 'all Ready', 600_000);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${count} tenants applied in ${((applied - started) / 1000).toFixed(1)} s, all Ready after ${seconds.toFixed(1)} s`,
    );
    await recordBenchmarkRow('operator', [
      new Date().toISOString().slice(0, 10),
      count,
      concurrency,
      `${seconds.toFixed(1)} s`,
      (count / seconds).toFixed(1),
      machine(),
    ]);
  } finally {
    await operator.stop();
    await db.drop();
    await deleteNamespace(namespace);
  }
}

await main();
