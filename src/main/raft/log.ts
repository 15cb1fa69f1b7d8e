// The in-memory Raft log: the latest snapshot's metadata, the entries after the compaction
// point, and the cursors that split it for the member:
//
//   offset < ... durable ... < unstableFrom ... lastIndex      (persistence)
//   applied <= applying <= min(committed, durable)             (application)
//
// Entries from `unstableFrom` on have not been handed out to be persisted yet; entries up to
// `durable` are known to be on disk (the member said so with persisted()). Committed entries
// are handed out for applying only once durable, each exactly once (`applying`).
import { RaftInvariantViolation } from './errors.js';
import { NO_ENTRIES } from './messages.js';
import type { Entry, RaftRestore, SnapshotMeta } from './types.js';
import { EntryType } from './types.js';

export class RaftLog {
  /** The latest snapshot: what a follower needing compacted entries is sent. */
  snapshot: SnapshotMeta;
  /** Index of the last compacted entry: entries[0] is at offset + 1. At most snapshot.index. */
  private offset: number;
  private offsetTerm: number;
  private entries: Entry[];
  committed: number;
  applied: number;
  /** Highest index handed out for applying. */
  private applying: number;
  /**
   * The on-disk log agrees with this log up to here. Below `offset` (after installing a
   * snapshot that is not on disk yet) it means the snapshot itself is not durable.
   */
  durable: number;
  private unstableFrom: number;
  /** A snapshot received from the leader that still has to be handed out. */
  private unstableSnapshot: SnapshotMeta | undefined;

  constructor(restore: RaftRestore) {
    const { snapshot, entries, hardState, applied } = restore;
    for (let i = 0; i < entries.length; i++) {
      if (entries[i]!.index !== snapshot.index + 1 + i) {
        throw new RangeError(`restore: entry ${i} has index ${entries[i]!.index}, expected ${snapshot.index + 1 + i}`);
      }
    }
    const lastIndex = snapshot.index + entries.length;
    if (applied < snapshot.index || applied > lastIndex) {
      throw new RangeError(`restore: applied ${applied} outside [${snapshot.index}, ${lastIndex}]`);
    }
    if (hardState.commit > lastIndex) {
      throw new RangeError(`restore: commit ${hardState.commit} beyond the last entry ${lastIndex}`);
    }
    this.snapshot = snapshot;
    this.offset = snapshot.index;
    this.offsetTerm = snapshot.term;
    this.entries = entries.slice();
    // Whatever was applied was committed, even if the HardState recording it did not reach disk.
    this.committed = Math.max(hardState.commit, applied, snapshot.index);
    this.applied = applied;
    this.applying = applied;
    this.durable = lastIndex;
    this.unstableFrom = lastIndex + 1;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.length === 0 ? this.offsetTerm : this.entries[this.entries.length - 1]!.term;
  }

  /** The term of the entry at `index`, or undefined if it was compacted or does not exist. */
  term(index: number): number | undefined {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset || index > this.offset + this.entries.length) return undefined;
    return this.entries[index - this.offset - 1]!.term;
  }

  /** Whether a log ending at (lastIndex, lastTerm) is at least as up to date as this one (Raft §5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** The leader's append: `entry` goes right after the last entry. */
  append(entry: Entry): void {
    if (entry.index !== this.lastIndex() + 1) {
      throw new RaftInvariantViolation(`append index ${entry.index} after last index ${this.lastIndex()}`);
    }
    this.entries.push(entry);
  }

  /**
   * A follower's append (the MsgApp consistency check, Raft §5.3): if the entry at
   * `prevIndex` has `prevTerm`, drop any conflicting suffix, append what is new, and move
   * the commit index to min(commit, last new index). Returns the last new index, or -1
   * if the check failed. The caller ensures prevIndex >= committed.
   */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, ents: readonly Entry[]): number {
    if (this.term(prevIndex) !== prevTerm) return -1;
    const n = ents.length;
    if (n > 0 && (ents[0]!.index !== prevIndex + 1 || ents[n - 1]!.index !== prevIndex + n)) {
      throw new RaftInvariantViolation(`MsgApp entries after ${prevIndex} are not contiguous`);
    }
    let i = 0;
    while (i < n && this.term(ents[i]!.index) === ents[i]!.term) i++;
    if (i < n) {
      const conflict = ents[i]!.index;
      if (conflict <= this.committed) {
        throw new RaftInvariantViolation(`entry ${conflict} conflicts with committed entries (commit ${this.committed})`);
      }
      if (conflict <= this.lastIndex()) this.truncateFrom(conflict);
      for (; i < n; i++) this.entries.push(ents[i]!);
    }
    const lastNew = prevIndex + n;
    if (commit > this.committed) this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /**
   * For a rejected MsgApp: the largest index <= `index` whose term is <= `term`. Every
   * entry above it has a term that cannot match the other log, so probing resumes there.
   */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex());
    while (i > this.offset && this.entries[i - this.offset - 1]!.term > term) i--;
    return Math.max(i, this.offset);
  }

  /** Entries from `from` to the end, at most `maxBytes` of data but at least one entry. */
  slice(from: number, maxBytes: number): Entry[] {
    const last = this.lastIndex();
    if (from > last) return NO_ENTRIES;
    if (from <= this.offset) throw new RaftInvariantViolation(`slice from compacted index ${from}`);
    const start = from - this.offset - 1;
    let end = start + 1;
    let bytes = this.entries[start]!.data.length;
    const max = this.entries.length;
    while (end < max) {
      bytes += this.entries[end]!.data.length;
      if (bytes > maxBytes) break;
      end++;
    }
    return this.entries.slice(start, end);
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) {
      throw new RaftInvariantViolation(`commit ${index} beyond the last index ${this.lastIndex()}`);
    }
    this.committed = index;
  }

  /** The leader's commit rule (Raft §5.4.2): only an entry of the current term is committed by counting replicas. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  /** Replaces the whole log with a snapshot from the leader (it is newer than anything committed here). */
  restore(snapshot: SnapshotMeta): void {
    if (snapshot.index <= this.committed) {
      throw new RaftInvariantViolation(`restore snapshot ${snapshot.index} at or below commit ${this.committed}`);
    }
    // The committed prefix on disk belongs to the snapshot's history; anything above may not.
    this.durable = Math.min(this.durable, this.committed);
    this.snapshot = snapshot;
    this.offset = snapshot.index;
    this.offsetTerm = snapshot.term;
    this.entries = [];
    this.committed = snapshot.index;
    this.applying = snapshot.index;
    this.unstableFrom = snapshot.index + 1;
    this.unstableSnapshot = snapshot;
  }

  /**
   * The member took a snapshot at `snapshot.index` (<= applied): remember it for followers
   * and drop the entries it covers, except the last `retain` of them (so a follower that
   * is only a little behind can still catch up from the log).
   */
  compact(snapshot: SnapshotMeta, retain: number): void {
    if (snapshot.index <= this.snapshot.index) return; // an older snapshot than ours: nothing to do
    if (snapshot.index > this.applied) {
      throw new RaftInvariantViolation(`compact to ${snapshot.index} beyond applied ${this.applied}`);
    }
    if (this.term(snapshot.index) !== snapshot.term) {
      throw new RaftInvariantViolation(`compact: snapshot term ${snapshot.term} differs from the log at ${snapshot.index}`);
    }
    this.snapshot = snapshot;
    const newOffset = Math.max(this.offset, snapshot.index - Math.max(0, retain));
    if (newOffset === this.offset) return;
    this.offsetTerm = this.term(newOffset)!;
    this.entries = this.entries.slice(newOffset - this.offset);
    this.offset = newOffset;
  }

  hasUnstable(): boolean {
    return this.unstableSnapshot !== undefined || this.unstableFrom <= this.lastIndex();
  }

  takeUnstableSnapshot(): SnapshotMeta | undefined {
    const s = this.unstableSnapshot;
    this.unstableSnapshot = undefined;
    return s;
  }

  takeUnstableEntries(): Entry[] {
    const last = this.lastIndex();
    if (this.unstableFrom > last) return NO_ENTRIES;
    const ents = this.entries.slice(this.unstableFrom - this.offset - 1);
    this.unstableFrom = last + 1;
    return ents;
  }

  /**
   * The member made the log durable up to (index, term). Returns whether `durable` moved.
   * A report whose term no longer matches is stale (that suffix was replaced since) and ignored.
   */
  persisted(index: number, term: number): boolean {
    if (index <= this.durable || this.term(index) !== term) return false;
    if (index >= this.unstableFrom || (this.unstableSnapshot !== undefined && index >= this.offset)) {
      throw new RaftInvariantViolation(`persisted(${index}) reports entries that were never handed out`);
    }
    this.durable = index;
    return true;
  }

  hasCommittedToApply(): boolean {
    return Math.min(this.committed, this.durable) > this.applying;
  }

  /** Committed, durable entries not handed out yet; each is handed out once. */
  takeCommittedToApply(): Entry[] {
    const hi = Math.min(this.committed, this.durable);
    if (hi <= this.applying) return NO_ENTRIES;
    const ents = this.entries.slice(this.applying - this.offset, hi - this.offset);
    this.applying = hi;
    return ents;
  }

  appliedTo(index: number): void {
    if (index < this.applied || index > this.applying) {
      throw new RaftInvariantViolation(`applied(${index}) outside [${this.applied}, ${this.applying}]`);
    }
    this.applied = index;
  }

  /** Whether a committed ConfChange is still waiting to be applied (an election must wait for it). */
  hasUnappliedConfChange(): boolean {
    for (let i = Math.max(this.applied, this.offset) + 1; i <= this.committed; i++) {
      if (this.entries[i - this.offset - 1]!.type === EntryType.ConfChange) return true;
    }
    return false;
  }

  private truncateFrom(index: number): void {
    this.entries.length = index - this.offset - 1;
    if (this.unstableFrom > index) this.unstableFrom = index;
    if (this.durable >= index) this.durable = index - 1;
  }
}
