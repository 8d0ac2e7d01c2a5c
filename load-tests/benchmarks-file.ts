import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';

const file = resolve(import.meta.dirname, '../BENCHMARKS.md');

/** This machine, for the last column of a benchmark row. */
export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
}

/**
 * The machine's load average over the last minute, read before a benchmark starts its own processes:
 * how busy other work kept the 2 shared cores, which every figure depends on.
 */
export function loadBefore(): string {
  return `load ${loadavg()[0]!.toFixed(1)} before the run`;
}

/** Rewrites BENCHMARKS.md with what `edit` makes of its text. */
async function editFile(edit: (text: string) => string): Promise<void> {
  await writeFile(file, edit(await readFile(file, 'utf8')));
}

function requireMarker(text: string, marker: string): number {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`BENCHMARKS.md lacks ${marker}`);
  return at;
}

/** Adds a row to a table of BENCHMARKS.md, just above its `<!-- <table> rows -->` marker. */
export function recordBenchmarkRow(table: string, cells: (string | number)[]): Promise<void> {
  const marker = `<!-- ${table} rows -->`;
  return editFile((text) => {
    const at = requireMarker(text, marker);
    return `${text.slice(0, at)}| ${cells.join(' | ')} |\n${text.slice(at)}`;
  });
}

/** Replaces what stands between `<!-- <name>:start -->` and `<!-- <name>:end -->` in BENCHMARKS.md. */
export function replaceBenchmarkSection(name: string, body: string): Promise<void> {
  const start = `<!-- ${name}:start -->`;
  return editFile((text) => {
    const from = requireMarker(text, start) + start.length;
    const to = requireMarker(text, `<!-- ${name}:end -->`);
    return `${text.slice(0, from)}\n${body}\n${text.slice(to)}`;
  });
}
