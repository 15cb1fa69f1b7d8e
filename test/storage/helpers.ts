// Test scaffolding for the MVCC store: an LMDB environment in a fresh temp dir, reopenable.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { MvccStore } from '../../src/storage/mvcc/index.js';

export class TempEnv {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsetcd-mvcc-'));
  env: RootDatabase;
  store: MvccStore;

  /** noSync: durability across power loss is not under test, and fsync per op would dominate. */
  constructor(private readonly noSync = true) {
    this.env = this.openEnv();
    this.store = MvccStore.open(this.env);
  }

  private openEnv(): RootDatabase {
    return open({ path: this.dir, maxDbs: 4, noSync: this.noSync });
  }

  /** Runs fn in one LMDB write transaction, as the member's apply loop does. */
  write<T>(fn: (store: MvccStore) => T): T {
    return this.env.transactionSync(() => fn(this.store));
  }

  async reopen(): Promise<MvccStore> {
    await this.env.close();
    this.env = this.openEnv();
    this.store = MvccStore.open(this.env);
    return this.store;
  }

  async dispose(): Promise<void> {
    await this.env.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export const b = (s: string): Buffer => Buffer.from(s, 'latin1');
