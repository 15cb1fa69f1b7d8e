// The replicated state machine on disk: the MVCC store and the membership, in one LMDB
// environment with the applied index. A follower far behind replaces all of it with a snapshot
// streamed from the leader.
import fs from 'node:fs';
import path from 'node:path';
import { MvccStore } from '../../storage/mvcc/index.js';
import { StateStore, type Membership } from '../../storage/state/state-store.js';

/** Told when the MVCC store is about to be replaced (a snapshot from the leader), and when the new one is open. */
export interface StoreObserver {
  storeClosing(): void;
  storeOpened(store: MvccStore): void;
}

export class StateMachine {
  private observer: StoreObserver | undefined;

  private constructor(
    private readonly dir: string,
    private store: StateStore,
    private kv: MvccStore,
  ) {}

  static open(dir: string): StateMachine {
    const store = StateStore.open(dir);
    return new StateMachine(dir, store, MvccStore.open(store.env));
  }

  get state(): StateStore {
    return this.store;
  }

  get mvcc(): MvccStore {
    return this.kv;
  }

  observeStore(observer: StoreObserver): void {
    this.observer = observer;
  }

  membership(): Membership {
    const m = this.store.membership();
    if (m === undefined) throw new Error(`state store in ${this.dir} has no membership record`);
    return m;
  }

  /**
   * Writes a consistent copy of the whole state into an empty directory `dir` (as `data.mdb`),
   * for a follower that needs a snapshot; returns the file's path.
   */
  async copyTo(dir: string): Promise<string> {
    fs.mkdirSync(dir, { recursive: true });
    await this.kv.committed();
    await this.store.env.backup(dir, false);
    return path.join(dir, 'data.mdb');
  }

  /**
   * Replaces the state with a snapshot file (an LMDB data file from copyTo on the leader).
   * Synchronous callers must not touch `state`/`mvcc` until this resolves.
   */
  async replaceWith(file: string): Promise<void> {
    this.observer?.storeClosing();
    await this.close();
    const target = path.join(this.dir, 'data.mdb');
    fs.renameSync(file, target);
    fs.rmSync(path.join(this.dir, 'lock.mdb'), { force: true });
    const dirFd = fs.openSync(this.dir, 'r');
    fs.fsyncSync(dirFd);
    fs.closeSync(dirFd);
    this.store = StateStore.open(this.dir);
    this.kv = MvccStore.open(this.store.env);
    this.observer?.storeOpened(this.kv);
  }

  /** Waits for every write to commit first: lmdb-js must not close with writes in flight (nor hashes). */
  async close(): Promise<void> {
    await this.kv.committed();
    await this.kv.close();
    await this.store.close();
  }
}
