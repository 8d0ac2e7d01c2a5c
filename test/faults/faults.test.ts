/**
 * Fault injection: concurrent uploads, serving and deletes against two API processes, with two workers
 * and the operator, while the suite SIGKILLs processes and stops PostgreSQL, Redis and MinIO (its own
 * instances) at moments drawn from a seeded PRNG. Then nothing acknowledged may be lost, nothing may be
 * left inconsistent, and every process must have ridden out the outages.
 *
 *   STOWAGE_FAULTS_ROUNDS  faults to inject (default 6: each kind once; `make faults` injects more)
 *   STOWAGE_FAULTS_SEED    replays a run: the seed is printed at the start
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { call } from '../support/http.ts';
import { eventually } from '../support/poll.ts';
import { inconsistencies } from './consistency.ts';
import { badOutcomes, injectFaults, type FaultWindow } from './faults.ts';
import { Platform } from './platform.ts';
import { Random } from './random.ts';
import { Traffic, fileUrl, servedWrong, type AckedFile } from './traffic.ts';

const ROUNDS = Number(process.env.STOWAGE_FAULTS_ROUNDS ?? 6);
const SEED = Number(process.env.STOWAGE_FAULTS_SEED ?? randomInt(2 ** 31));
const CLIENTS = Number(process.env.STOWAGE_FAULTS_CLIENTS ?? 4);
/** No request may take longer than this, outage or not. */
const REQUEST_TIMEOUT_MS = 20_000;

describe(`faults under traffic (STOWAGE_FAULTS_SEED=${SEED} STOWAGE_FAULTS_ROUNDS=${ROUNDS})`, () => {
  let platform: Platform;
  let traffic: Traffic;
  let windows: FaultWindow[];
  let appliedWhileDown: string[];

  before(async () => {
    console.error(`# fault suite: STOWAGE_FAULTS_SEED=${SEED} STOWAGE_FAULTS_ROUNDS=${ROUNDS}`);
    const random = new Random(SEED);
    platform = await Platform.start();
    traffic = new Traffic(platform, random, REQUEST_TIMEOUT_MS);
    traffic.start(CLIENTS);
    ({ windows, appliedWhileDown } = await injectFaults(platform, random, ROUNDS, (line) =>
      console.error(`# ${line}`),
    ));
    await traffic.stop();
  });
  after(() => platform?.close());

  it('answered every request with a 2xx, 503 SERVICE_UNAVAILABLE, or a refused connection while down', () => {
    const bad = badOutcomes(traffic.outcomes, windows);
    const acked = traffic.files.length;
    console.error(`# ${traffic.outcomes.length} requests, ${acked} uploads acknowledged`);
    assert.deepEqual(bad, [], JSON.stringify({ windows }, null, 1));
    assert.ok(acked > 0, 'some uploads went through');
  });

  it('kept every process it did not kill running through the outages', () => {
    assert.deepEqual(platform.unexpectedExits(), []);
  });

  it('answers fresh requests on both APIs once the dependencies are back, with no process restarted', async () => {
    const restarts = platform.slots().map((slot) => slot.restarts);
    const tenant = platform.tenants[0]!;
    for (const api of platform.apis) {
      // Readiness is what lets traffic back in: both the database and the store answer again.
      await eventually(async () => ((await fetch(`${api.url}/readyz`)).ok ? true : undefined), 'readiness');
      const key = tenant.keys.live;
      const put = await call(api.url, '/upload/fresh/a.txt', { method: 'PUT', key, body: 'fresh' });
      assert.equal(put.status, 201, JSON.stringify(put.body));
      const served = await fetch(`${api.url}/${tenant.id}/fresh/${put.body.file.key}`);
      assert.equal(served.status, 200);
      assert.equal(await served.text(), 'fresh');
      assert.equal((await call(api.url, '/files/fresh', { key })).status, 200);
      const deleted = await call(api.url, '/files/delete', {
        method: 'POST',
        key,
        json: { bucket: 'fresh', key: put.body.file.key },
      });
      assert.equal(deleted.status, 200);
    }
    assert.deepEqual(
      platform.slots().map((slot) => slot.restarts),
      restarts,
    );
  });

  /** Every key of `bucket` in the listing that `file`'s key sees. */
  async function listed(api: string, file: AckedFile): Promise<Set<string>> {
    const keys = new Set<string>();
    let cursor: string | undefined;
    do {
      const query = `?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await call(api, `/files/${file.bucket}${query}`, { key: file.tenant.keys[file.mode] });
      assert.equal(page.status, 200);
      for (const f of page.body.files) keys.add(f.key);
      cursor = page.body.hasMore ? page.body.nextCursor : undefined;
    } while (cursor);
    return keys;
  }

  it('serves every acknowledged upload byte for byte and lists it; acknowledged deletes stay deleted', async () => {
    const settled = traffic.files.filter((f) => f.state !== 'unknown');
    for (const api of platform.apis) {
      const listings = new Map<string, Set<string>>();
      for (const file of settled) {
        const listing = `${file.tenant.id}/${file.mode}/${file.bucket}`;
        if (!listings.has(listing)) listings.set(listing, await listed(api.url, file));
      }
      const check = async (file: AckedFile) => {
        const res = await fetch(fileUrl(api.url, file));
        const answer = { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
        const keys = listings.get(`${file.tenant.id}/${file.mode}/${file.bucket}`)!;
        if (file.state === 'stored') {
          assert.equal(servedWrong(file, answer), undefined);
          assert.equal(answer.status, 200);
          assert.ok(keys.has(file.key), `${file.key} is listed`);
        } else {
          assert.equal(answer.status, 404, `${file.key} was deleted`);
          assert.ok(!keys.has(file.key), `${file.key} is not listed`);
        }
      };
      for (let i = 0; i < settled.length; i += 16) await Promise.all(settled.slice(i, i + 16).map(check));
    }
  });

  it('made the variants of every acknowledged image, workers killed or not', async () => {
    const images = traffic.files.filter((f) => f.image && f.state === 'stored');
    for (const image of images) {
      const { tenant, mode, bucket, key } = image;
      await eventually(async () => {
        const file = await call(platform.apis[0]!.url, `/files/${bucket}/${key}`, { key: tenant.keys[mode] });
        return file.body.file?.variantStatus === 'ready' ? true : undefined;
      }, `the variants of ${key}`);
    }
  });

  it('leaves the database and the store consistent: stowage check finds nothing, no reservation is left', async () => {
    // Reservations of killed writers are released by the sweeper once they expire: an API's within
    // seconds here, a worker's (which it holds for a minute) within about a minute.
    const problems = await eventually(
      async () => {
        const found = await inconsistencies(platform);
        return found.length === 0 ? found : undefined;
      },
      'a consistent state',
      90_000,
    ).catch(() => inconsistencies(platform));
    assert.deepEqual(problems, []);
  });

  it('converges the operator: StorageTenants applied while it was down become Ready', async () => {
    for (const name of appliedWhileDown) await platform.storageTenants.waitFor(name);
  });
});
