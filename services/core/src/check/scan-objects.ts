import type pg from 'pg';
import { isUuid } from '../files/object-keys.ts';
import { compareKeys, type ListedObject, type ObjectStore } from '../object-store/object-store.ts';
import {
  filesById,
  keysInFlight,
  withFileScan,
  type CheckedTenant,
  type ScannedFile,
} from './check-store.ts';
import { fileObjects, type FileObject } from './file-objects.ts';

/** Candidates are confirmed, and handed on, this many at a time. */
const BATCH = 100;

export interface ObjectScanHandlers {
  /** An object a row requires that the store does not have, still so after the scan saw it. */
  missing(file: ScannedFile, object: FileObject): void;
  sizeMismatch(file: ScannedFile, object: FileObject, stored: ListedObject): void;
  /** Objects that no row, reservation or direct upload accounts for, older than the grace. */
  orphans(objects: ListedObject[]): Promise<void>;
}

interface Expected {
  file: ScannedFile;
  object: FileObject;
}

/** An async iterator that can look at its next value without taking it. */
class Peekable<T> {
  private head: Promise<IteratorResult<T>> | undefined;
  constructor(private readonly source: AsyncIterator<T>) {}
  async peek(): Promise<T | undefined> {
    this.head ??= this.source.next();
    const result = await this.head;
    return result.done ? undefined : result.value;
  }
  skip(): void {
    this.head = undefined;
  }
}

async function* expectedObjects(files: AsyncIterable<ScannedFile>): AsyncGenerator<Expected> {
  let last: string | undefined;
  for await (const file of files) {
    for (const object of fileObjects(file)) {
      // A file's keys all start with its bucket and id, so they never interleave with another's.
      if (last !== undefined && compareKeys(object.key, last) < 0)
        throw new Error(`file keys out of order: ${object.key} after ${last}`);
      last = object.key;
      yield { file, object };
    }
  }
}

/** The uuid a file's objects are named after, or undefined for a key no file could have. */
function fileIdOf(key: string): string | undefined {
  const id = key.slice(key.indexOf('/') + 1, key.indexOf('/') + 37);
  return isUuid(id) ? id : undefined;
}

/**
 * Walks a tenant's file rows (sorted by key, through a cursor) and its store bucket's listing (sorted the
 * same way) side by side, as a merge join: memory holds a page of each and a batch of candidates, however
 * many objects the tenant has. Both sides move while the scan runs, so each candidate is looked up again
 * before it is reported: a missing object must still be required by a row and absent from the store, an
 * orphan still unaccounted for and present.
 */
export function scanObjects(
  deps: { pool: pg.Pool; store: ObjectStore },
  tenant: CheckedTenant,
  orphanedBefore: Date,
  handlers: ObjectScanHandlers,
): Promise<void> {
  const bucket = tenant.storageBucket;
  return withFileScan(deps.pool, tenant.id, async (files, db) => {
    let inFlight = new Set(await keysInFlight(db, tenant.id));
    const expected = new Peekable(expectedObjects(files));
    const listed = new Peekable(deps.store.list({ bucket })[Symbol.asyncIterator]());
    let missing: Expected[] = [];
    let orphans: ListedObject[] = [];

    const confirmMissing = async () => {
      const current = await filesById(db, tenant.id, [...new Set(missing.map((m) => m.file.id))]);
      const required = new Set(
        current.flatMap((f) =>
          fileObjects(f)
            .filter((o) => o.required)
            .map((o) => o.key),
        ),
      );
      for (const m of missing) {
        if (required.has(m.object.key) && !(await deps.store.head({ bucket, key: m.object.key })))
          handlers.missing(m.file, m.object);
      }
      missing = [];
    };
    const confirmOrphans = async () => {
      const ids = orphans.flatMap((o) => fileIdOf(o.key) ?? []);
      const current = await filesById(db, tenant.id, [...new Set(ids)]);
      const owned = new Set(current.flatMap((f) => fileObjects(f).map((o) => o.key)));
      inFlight = new Set(await keysInFlight(db, tenant.id));
      const confirmed: ListedObject[] = [];
      for (const o of orphans) {
        if (!owned.has(o.key) && !inFlight.has(o.key) && (await deps.store.head({ bucket, key: o.key })))
          confirmed.push(o);
      }
      orphans = [];
      if (confirmed.length) await handlers.orphans(confirmed);
    };

    for (;;) {
      const [want, have] = await Promise.all([expected.peek(), listed.peek()]);
      if (!want && !have) break;
      const order = !want ? 1 : !have ? -1 : compareKeys(want.object.key, have.key);
      if (order <= 0) expected.skip();
      if (order >= 0) listed.skip();
      if (order < 0 && want!.object.required) missing.push(want!);
      if (order > 0 && !inFlight.has(have!.key) && have!.lastModified < orphanedBefore) orphans.push(have!);
      if (order === 0 && want!.object.size !== undefined && want!.object.size !== have!.size)
        handlers.sizeMismatch(want!.file, want!.object, have!);
      if (missing.length >= BATCH) await confirmMissing();
      if (orphans.length >= BATCH) await confirmOrphans();
    }
    await confirmMissing();
    await confirmOrphans();
  });
}
