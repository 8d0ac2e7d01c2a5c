import { readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from './usage-error.ts';
import type { LocalFile } from './upload-journal.ts';

/**
 * The files the paths name, each once, folders walked recursively in name order. Links named on the
 * command line are followed; inside folders, linked files are taken but linked folders are not (they
 * may loop) and dangling links are passed over.
 */
export async function localFiles(paths: string[]): Promise<LocalFile[]> {
  const found = new Map<string, LocalFile>();
  for (const shown of paths) {
    const stats = await stat(shown).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(
        `cannot read ${shown}: ${error.code === 'ENOENT' ? 'no such file or folder' : error.message}`,
      );
    });
    if (stats.isDirectory()) await walk(shown, found);
    else if (stats.isFile()) add(found, shown, stats);
    else throw new UsageError(`${shown} is neither a file nor a folder`);
  }
  return [...found.values()];
}

async function walk(folder: string, found: Map<string, LocalFile>): Promise<void> {
  const entries = await readdir(folder, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const shown = join(folder, entry.name);
    if (entry.isDirectory()) {
      await walk(shown, found);
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      const stats = await stat(shown).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (stats?.isFile()) add(found, shown, stats);
    }
  }
}

function add(found: Map<string, LocalFile>, shown: string, stats: Stats): void {
  const path = resolve(shown);
  if (!found.has(path)) found.set(path, { path, shown, size: stats.size, mtimeMs: stats.mtimeMs });
}
