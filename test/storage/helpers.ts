// Test scaffolding for the MVCC store: an LMDB environment in a fresh temp dir, reopenable.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { deferredWritesOf } from '../../src/storage/deferred-writes.js';
import { MvccStore } from '../../src/storage/mvcc/index.js';

/** The environment as the member opens it (overlappingSync), or with noSync where durability is not under test. */
export function openEnv(dir: string, noSync = false): RootDatabase {
  return open({ path: dir, maxDbs: 4, ...(noSync ? { noSync: true } : { overlappingSync: true }) });
}

/**
 * Closes env once its held writes are issued and an asynchronous write issued after them has committed. lmdb-js's close() in the event turn
 * of pending asynchronous writes can free the environment while its write thread is still finishing
 * the commit (a segfault or a hang, reproduced with lmdb-js alone); after a commit it has not.
 */
export async function closeEnv(env: RootDatabase): Promise<void> {
  await deferredWritesOf(env).issueSoon().catch(() => undefined); // a broken store's failed writes
  await env.batch(() => undefined);
  await env.close();
}

export class TempEnv {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsetcd-mvcc-'));
  env: RootDatabase;
  store: MvccStore;

  constructor(private readonly noSync = false) {
    this.env = openEnv(this.dir, noSync);
    this.store = MvccStore.open(this.env);
  }

  /** Waits for the store's writes to commit, then closes and reopens the environment and the store. */
  async reopen(): Promise<MvccStore> {
    await this.store.committed();
    return this.reopenAsIs();
  }

  /** Closes and reopens without asking the store (a broken one cannot answer committed()). */
  async reopenAsIs(): Promise<MvccStore> {
    await this.store.close();
    await closeEnv(this.env);
    this.env = openEnv(this.dir, this.noSync);
    this.store = MvccStore.open(this.env);
    return this.store;
  }

  async dispose(): Promise<void> {
    await this.store.close();
    await closeEnv(this.env);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Lets the event loop turn: lmdb-js's write thread may commit what the last turn wrote. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const b = (s: string): Buffer => Buffer.from(s, 'latin1');
