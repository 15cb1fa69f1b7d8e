// Writes to an LMDB environment held back and issued to lmdb-js together, as etcd's backend
// commits its batch transaction every 100 ms instead of once per apply: one LMDB commit (and one
// background sync) for many applied batches. lmdb-js commits each event turn's asynchronous writes
// as one transaction, so every held write is issued in order within one turn, and a turn's worth
// of related writes (an applied batch and its applied index) always lands in one transaction.
//
// Nothing needs to read a held write from LMDB: the MVCC store reads its write buffer first, the
// state store keeps what it wrote. Nothing held is lost to a crash either: it all comes from Raft
// entries the WAL holds, which the WAL keeps until flushed() says the state is on disk.
//
// Every writer of an environment must use its one DeferredWrites (deferredWritesOf), or writes
// would reach LMDB out of order.
import type { Database, RootDatabase } from 'lmdb';
import { withResolvers, type Resolvers } from '../main/with-resolvers.js';

/** How long writes wait to be issued together. etcd's --backend-batch-interval is 100 ms. */
const INTERVAL_MS = 25;
/** Past this many held bytes, they are issued in the next turn rather than at the interval. */
const EARLY_ISSUE_BYTES = 4 * 1024 * 1024;

// lmdb-js's Database is generic over key and value; here only put/remove are used.
type AnyDatabase = Database<Buffer, Buffer> | Database<Buffer, string> | Database<Buffer, number>;
type AnyKey = Buffer | string | number;

interface Held {
  db: AnyDatabase;
  key: AnyKey;
  /** undefined: remove the key. */
  value: Buffer | undefined;
}

export class DeferredWrites {
  private held: Held[] = [];
  private bytes = 0;
  /** Settles once the held writes are committed (one promise per issued group). */
  private batch: Resolvers<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  /**
   * Holds a put; the promise settles with the commit of the transaction that carries it. The key
   * is copied (callers reuse key scratch buffers); the value must not change until then.
   */
  put(db: AnyDatabase, key: AnyKey, value: Buffer): Promise<void> {
    return this.hold({ db, key: ownKey(key), value }, value.length);
  }

  /** Holds a removal; the promise settles with the commit of the transaction that carries it. */
  remove(db: AnyDatabase, key: AnyKey): Promise<void> {
    return this.hold({ db, key: ownKey(key), value: undefined }, 0);
  }

  /** Issues what is held in a coming turn (not this one: its writes may not be complete yet); resolves once committed. */
  issueSoon(): Promise<void> {
    if (this.batch === undefined) return Promise.resolve();
    this.immediate ??= setImmediate(this.issue);
    return this.batch.promise;
  }

  private hold(write: Held, bytes: number): Promise<void> {
    this.held.push(write);
    this.bytes += bytes;
    if (this.batch === undefined) {
      this.batch = withResolvers();
      this.timer = setTimeout(this.issue, INTERVAL_MS);
    }
    if (this.bytes >= EARLY_ISSUE_BYTES) this.immediate ??= setImmediate(this.issue);
    return this.batch.promise;
  }

  private readonly issue = (): void => {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    const batch = this.batch;
    if (batch === undefined) return;
    const held = this.held;
    this.held = [];
    this.bytes = 0;
    this.batch = undefined;
    let last: Promise<unknown> | undefined;
    try {
      for (const w of held) {
        const db = w.db as Database<Buffer, AnyKey>;
        last = w.value === undefined ? db.remove(w.key) : db.put(w.key, w.value);
      }
    } catch (e) {
      batch.reject(e);
      return;
    }
    // One turn, one transaction: its last write's promise settles with the commit.
    last!.then(() => batch.resolve(), batch.reject);
  };
}

const ownKey = (key: AnyKey): AnyKey => (Buffer.isBuffer(key) ? Buffer.from(key) : key);

const writers = new WeakMap<RootDatabase, DeferredWrites>();

/** The environment's one DeferredWrites. */
export function deferredWritesOf(env: RootDatabase): DeferredWrites {
  let w = writers.get(env);
  if (w === undefined) writers.set(env, (w = new DeferredWrites()));
  return w;
}
