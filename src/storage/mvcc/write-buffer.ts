// The store's writes that LMDB has not committed yet, as etcd's backend keeps the writes of its
// uncommitted batch in a read buffer: the encoded KeyValue of every revision written (puts and
// tombstones), which reads look up before LMDB.
//
// The writes go to LMDB as lmdb-js asynchronous writes. lmdb-js commits every asynchronous write of
// one event turn in one transaction on its write thread, and each write returns a promise of that
// commit: the same object for all the writes of a turn (a second one when lmdb-js starts writing a
// large turn before it ends), so tracking costs an identity check per write. Each new promise opens
// a batch here. When it resolves, its writes and every earlier one are committed and visible to reads
// (lmdb-js renews its read transaction first), so the revisions issued before the next batch opened
// leave the buffer. A promise that rejects is a failed commit.

interface Batch {
  /** Every write of the revisions up to this one was issued before the next batch opened (set then). */
  through: number;
}

export class WriteBuffer {
  /** Main revision → encoded KeyValue per sub revision (undefined once compacted away). In revision order. */
  private readonly revisions = new Map<number, (Buffer | undefined)[]>();
  private size = 0;
  private lastPromise: Promise<unknown> | undefined;
  /** The batch of lastPromise, until it commits. */
  private newest: Batch | undefined;
  /** The first asynchronous write that failed, if any. */
  private failure: Error | undefined;

  /** issuedThrough: the store's revision, every write of which LMDB already holds. */
  constructor(private issuedThrough: number) {}

  /** Bytes of encoded KeyValues not yet seen committed. */
  get bytes(): number {
    return this.size;
  }

  /** Whether every write issued so far has been seen committed. */
  get idle(): boolean {
    return this.newest === undefined;
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  get(main: number, sub: number): Buffer | undefined {
    return this.revisions.get(main)?.[sub];
  }

  /** The buffered revisions above `main`, in revision order (a sub revision compacted away is undefined). */
  *revisionsAbove(main: number): IterableIterator<[number, readonly (Buffer | undefined)[]]> {
    for (const entry of this.revisions) if (entry[0] > main) yield entry;
  }

  /** Buffers a write of the revision being written (sub revisions come in order from 0). */
  add(main: number, sub: number, bytes: Buffer): void {
    const subs = this.revisions.get(main);
    if (subs === undefined) this.revisions.set(main, [bytes]);
    else subs[sub] = bytes;
    this.size += bytes.length;
  }

  /** Compaction removed (main, sub): it must not be read from here either. */
  drop(main: number, sub: number): void {
    const subs = this.revisions.get(main);
    const bytes = subs?.[sub];
    if (subs === undefined || bytes === undefined) return;
    subs[sub] = undefined;
    this.size -= bytes.length;
  }

  /**
   * Records the promise lmdb-js returned for an asynchronous write just issued. (Inside a
   * transactionSync, against the store's contract, lmdb-js returns one settled promise for every
   * write: each use after its batch committed opens a batch again, so the buffer still empties.)
   */
  track(promise: Promise<unknown>): void {
    if (promise === this.lastPromise && this.newest !== undefined) return;
    this.lastPromise = promise;
    if (this.newest !== undefined) this.newest.through = this.issuedThrough;
    const batch: Batch = { through: this.issuedThrough };
    this.newest = batch;
    promise.then(
      () => this.commit(batch),
      (e: unknown) => {
        this.failure ??= e instanceof Error ? e : new Error(String(e));
      },
    );
  }

  /** Every write of revision main has been issued. */
  issued(main: number): void {
    this.issuedThrough = main;
  }

  private commit(batch: Batch): void {
    let through = batch.through;
    if (batch === this.newest) {
      // No write has been issued in another batch since this one opened: all of them are committed.
      through = this.issuedThrough;
      this.newest = undefined;
    }
    for (const [main, subs] of this.revisions) {
      if (main > through) break;
      for (const bytes of subs) if (bytes !== undefined) this.size -= bytes.length;
      this.revisions.delete(main);
    }
  }
}
