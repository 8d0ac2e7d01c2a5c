import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';

/** This machine, for the last column of a benchmark row. */
export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
}

/** Adds a row to a table of BENCHMARKS.md, just above its `<!-- <table> rows -->` marker. */
export async function recordBenchmarkRow(table: string, cells: (string | number)[]): Promise<void> {
  const file = resolve(import.meta.dirname, '../BENCHMARKS.md');
  const marker = `<!-- ${table} rows -->`;
  const text = await readFile(file, 'utf8');
  if (!text.includes(marker)) throw new Error(`BENCHMARKS.md lacks ${marker}`);
  await writeFile(file, text.replace(marker, `| ${cells.join(' | ')} |\n${marker}`));
}
