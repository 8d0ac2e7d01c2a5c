import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerName } from '../support/own-servers.ts';
import type { Platform, Slot } from './platform.ts';
import type { Random } from './random.ts';
import type { Outcome } from './traffic.ts';

/** A fault and when it lasted; requests to `refuses` may find no one answering meanwhile. */
export interface FaultWindow {
  fault: string;
  from: number;
  to: number;
  refuses: string[];
}

export const FAULTS = ['kill api', 'kill worker', 'kill operator', 'postgres', 'redis', 'minio'] as const;

/**
 * Injects `rounds` faults one at a time, at moments and for durations drawn from `random`: each round
 * SIGKILLs a process (and starts it again) or stops a server (and starts it again). Every kind comes
 * once before any comes twice. StorageTenants are applied while the operator is down.
 */
export async function injectFaults(
  platform: Platform,
  random: Random,
  rounds: number,
  log: (line: string) => void,
): Promise<{ windows: FaultWindow[]; appliedWhileDown: string[] }> {
  const windows: FaultWindow[] = [];
  const appliedWhileDown: string[] = [];
  const kinds = Array.from({ length: Math.ceil(rounds / FAULTS.length) }, () => random.shuffled(FAULTS))
    .flat()
    .slice(0, rounds);
  for (const [round, fault] of kinds.entries()) {
    await sleep(random.int(500, 2500));
    const from = Date.now();
    const downMs = random.int(300, 3000);
    let refuses: string[];
    if (fault === 'kill api' || fault === 'kill worker' || fault === 'kill operator') {
      const slot: Slot =
        fault === 'kill api'
          ? random.pick(platform.apis)
          : fault === 'kill worker'
            ? random.pick(platform.workers)
            : platform.operator;
      refuses = [slot.name];
      await slot.kill();
      if (fault === 'kill operator') {
        const name = `applied-${round}`;
        await platform.storageTenants.create(name, { apiKeys: [{ name: 'app' }] });
        appliedWhileDown.push(name);
      }
      await sleep(downMs);
      await slot.restart();
    } else {
      const server = platform.servers[fault satisfies ServerName];
      // Without its store, an API may cut a download it had begun: a reset, as a client sees it.
      refuses = fault === 'minio' ? ['store', ...platform.apis.map((a) => a.name)] : [];
      await server.kill();
      await sleep(downMs);
      await server.restart();
    }
    windows.push({ fault, from, to: Date.now(), refuses });
    log(`round ${round + 1}/${rounds}: ${fault}, down ${((Date.now() - from) / 1000).toFixed(1)} s`);
  }
  return { windows, appliedWhileDown };
}

/**
 * What no client should ever get: a 500 or any other error status than 503 SERVICE_UNAVAILABLE, an
 * answer that was wrong (a lost file, other bytes), no answer within the request timeout, or a refused
 * or reset connection while its process was neither killed nor cut off from its store.
 */
export function badOutcomes(outcomes: Outcome[], windows: FaultWindow[]): Outcome[] {
  const during = (o: Outcome) =>
    windows.some((w) => w.refuses.includes(o.target) && o.started <= w.to && o.ended >= w.from);
  return outcomes.filter((o) => {
    if (o.wrong !== undefined || o.timedOut) return true;
    if (o.status === undefined) return !during(o);
    if (o.status === 503) return o.code !== 'SERVICE_UNAVAILABLE';
    // An upload whose completion got no clear answer may have been completed, or discarded, after all.
    if (o.op === 'abort' && o.status === 404) return false;
    return o.status >= 400;
  });
}
