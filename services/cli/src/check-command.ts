import { parseArgs } from 'node:util';
import {
  ConfigError,
  checkInstallation,
  defaultCheckOptions,
  loadConfig,
  parseDuration,
  type CheckOptions,
  type CheckReport,
  type Finding,
} from '@stowage/core';
import { openDatabase, openObjectStore } from './wiring.ts';

/** `stowage check`'s exit codes. */
const EXIT = { clean: 0, findings: 1, usage: 2, failed: 3 } as const;

const USAGE = `usage: stowage check [--tenant <id>] [--repair] [--json] [--record]
                     [--orphan-grace <duration>] [--expired-grace <duration>] [--stuck-after <duration>]
                     [--max-details <n>]
durations: 0, or a number of seconds, minutes, hours or days (90s, 30m, 25h, 2d)
exit code: 0 nothing found, 1 findings (repaired or not), 2 bad usage or configuration, 3 the check failed`;

function milliseconds(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const seconds = value === '0' ? 0 : parseDuration(value);
  if (seconds === undefined) throw new ConfigError(`--${flag}: not a duration like 30m or 25h: ${value}`);
  return seconds * 1000;
}

function parseOptions(args: string[]): CheckOptions & { json: boolean } {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      tenant: { type: 'string' },
      repair: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      record: { type: 'boolean', default: false },
      'orphan-grace': { type: 'string' },
      'expired-grace': { type: 'string' },
      'stuck-after': { type: 'string' },
      'max-details': { type: 'string' },
    },
  });
  // The metrics show the latest recorded run for every tenant: a run over one would hide the others.
  if (values.record && values.tenant) throw new ConfigError('--record checks every tenant: drop --tenant');
  const maxDetails = values['max-details'] ?? String(defaultCheckOptions.maxDetails);
  if (!/^[0-9]{1,6}$/.test(maxDetails)) throw new ConfigError(`--max-details: not a count: ${maxDetails}`);
  return {
    tenantId: values.tenant,
    repair: values.repair,
    record: values.record,
    json: values.json,
    orphanGraceMs: milliseconds('orphan-grace', values['orphan-grace'], defaultCheckOptions.orphanGraceMs),
    expiredGraceMs: milliseconds(
      'expired-grace',
      values['expired-grace'],
      defaultCheckOptions.expiredGraceMs,
    ),
    stuckAfterMs: milliseconds('stuck-after', values['stuck-after'], defaultCheckOptions.stuckAfterMs),
    maxDetails: Number(maxDetails),
  };
}

const usageText = (u: { usedBytes: number; reservedBytes: number; fileCount: number }) =>
  `${u.usedBytes} bytes used, ${u.reservedBytes} reserved, ${u.fileCount} files`;

/** One finding on one line: what is wrong, then what was (or would be) done. */
function describe(f: Finding): string {
  const what = (() => {
    switch (f.kind) {
      case 'usage-mismatch':
        return `${f.mode}: recorded ${usageText(f.recorded)}; the rows add up to ${usageText(f.computed)}`;
      case 'missing-object':
        return `${f.mode} file ${f.fileId}: ${f.variant ? `its ${f.variant} variant` : 'its original'} ${f.key} is not in the store`;
      case 'size-mismatch':
        return `${f.mode} file ${f.fileId}: ${f.key} holds ${f.storedSize} bytes, the row says ${f.recordedSize}`;
      case 'orphan-object':
        return `${f.key} (${f.size} bytes, written ${f.lastModified.toISOString()}) belongs to no file`;
      case 'dead-reservation':
        return `${f.mode} reservation ${f.reservationId} of ${f.bytes} bytes${f.key ? ` for ${f.key}` : ''} expired ${f.expiredAt.toISOString()}`;
      case 'expired-direct-upload':
        return `${f.mode} direct upload ${f.uploadId} of ${f.bytes} bytes to ${f.key} expired ${f.expiredAt.toISOString()}`;
      case 'stuck-variants':
        return `${f.mode} file ${f.fileId} (${f.key}): variants pending, job ${f.state} since ${f.since.toISOString()}`;
    }
  })();
  return `${f.kind.padEnd(22)} ${what} -> ${f.action}`;
}

function printText(report: CheckReport): void {
  const verb = report.repair ? `, ${report.repaired} repaired` : '';
  console.log(`stowage check: ${report.tenants.length} tenants, ${report.found} findings${verb}`);
  for (const tenant of report.tenants) {
    const found = tenant.findings.length + tenant.omitted;
    console.log(
      `\ntenant ${tenant.tenantId} (bucket ${tenant.storageBucket}): ${found ? `${found} findings` : 'clean'}`,
    );
    for (const finding of tenant.findings) console.log(`  ${describe(finding)}`);
    if (tenant.omitted) console.log(`  … and ${tenant.omitted} more (raise --max-details to list them)`);
  }
  if (report.found && !report.repair) console.log('\nRun with --repair to fix what is safe to fix.');
}

/** `stowage check`: resolves to the exit code. */
export async function runCheck(args: string[]): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  let config: ReturnType<typeof loadConfig>;
  try {
    options = parseOptions(args);
    config = loadConfig();
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    const db = await openDatabase(config);
    try {
      const report = await checkInstallation({ pool: db.pool, store: openObjectStore(config) }, options);
      if (options.json) console.log(JSON.stringify(report, null, 2));
      else printText(report);
      if (options.tenantId && report.tenants.length === 0) {
        console.error(`no tenant ${options.tenantId}`);
        return EXIT.usage;
      }
      return report.found ? EXIT.findings : EXIT.clean;
    } finally {
      await db.close();
    }
  } catch (err) {
    // A configuration found unusable only once used (the embedded database open elsewhere, say).
    if (err instanceof ConfigError) {
      console.error(err.message);
      return EXIT.usage;
    }
    console.error('the check failed:', err);
    return EXIT.failed;
  }
}
