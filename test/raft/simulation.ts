// A deterministic simulation of a Raft cluster in one process (TigerBeetle / FoundationDB
// style): nodes, a network that drops, delays, reorders and duplicates messages and can be
// partitioned (both ways or one way), disks that persist each Ready after a random delay
// and lose what was not yet durable on a crash, clients that write and read (ReadIndex),
// leadership transfers, snapshots with log compaction, and membership changes. Every
// choice comes from one seeded PRNG, so a seed replays a run exactly.
//
// Checked after every event: at most one leader per term, log matching, committed entries
// never change, leader completeness, state machine safety, committed entries handed out
// only once durable, applied exactly once and in order. At the end: after healing, a
// leader emerges and commits within a bound; the clients' history is linearizable.
import { ProposalDropped, RaftNode } from '../../src/main/raft/node.js';
import type { ConfState, Entry, HardState, Message, NodeId, RaftConfig, Ready, SnapshotMeta } from '../../src/main/raft/types.js';
import { ConfChangeType, EntryType, MessageType, NONE, Role } from '../../src/main/raft/types.js';
import { checkLinearizable, type HistoryOp } from './linearizability.js';
import { Prng } from './prng.js';
import {
  copyConf,
  copyStateMachine,
  decodeConf,
  decodeWrite,
  encodeConf,
  encodeWrite,
  entryKey,
  newStateMachine,
  sameStateMachine,
  type StateMachine,
} from './sim-model.js';

/** Time is in abstract units; a node ticks about every TICK units. */
const TICK = 10;
const ELECTION_TICK = 10;
const KEYS = ['a', 'b', 'c'];
const MAX_EVENTS = 2_000_000;

export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    what: string,
    readonly trace: readonly string[],
  ) {
    super(`seed ${seed}: ${what}`);
    this.name = 'SimulationFailure';
  }
}

export interface SimulationStats {
  seed: number;
  nodes: number;
  events: number;
  elections: number;
  commits: number;
  writesAcked: number;
  readsAcked: number;
  snapshotsSent: number;
  crashes: number;
  partitions: number;
  transfers: number;
  confChanges: number;
  /** Ticks from the end of the faults until a write was applied on every member. */
  recoveryTicks: number;
}

interface Disk {
  hardState: HardState;
  snapshot: SnapshotMeta;
  snapshotData: StateMachine;
  entries: Entry[];
  /** The state machine as last flushed (like an LMDB commit): restarts resume from it. */
  checkpoint: StateMachine;
}

interface ClientOp {
  client: number;
  seq: number;
  kind: 'write' | 'read';
  key: string;
  value: string;
  node: NodeId;
  inv: number;
  resp: number;
  done: boolean;
  /** write: log index it took effect at; read: index of the write observed. */
  index: number | undefined;
}

class SimNode {
  incarnation = 0;
  up = false;
  /** Removed from the cluster and shut down for good. */
  retired = false;
  /** Its applied membership included it at some point. */
  wasMember = false;
  raft!: RaftNode;
  sm!: StateMachine;
  /** The log as handed out in Readies (offset = the snapshot it starts after). */
  mirrorOffset = 0;
  mirrorOffsetTerm = 0;
  mirror: Entry[] = [];
  /** Commit index from this node's HardStates, up to which entries were checked. */
  checkedCommit = 0;
  lastWriteDone = 0;
  /** The latest snapshot, streamed with a MsgSnap. */
  snapshot!: { meta: SnapshotMeta; data: StateMachine };
  /** Snapshots received with a MsgSnap, by index, until a Ready hands one out. */
  readonly incoming = new Map<number, StateMachine>();
  readonly reads = new Map<string, ClientOp>();
  readWaiters: { index: number; op: ClientOp }[] = [];
  readonly writes = new Map<string, ClientOp>();

  constructor(
    readonly id: NodeId,
    public disk: Disk,
    readonly compactEvery: number,
    readonly retain: number,
    /** Some disks are much slower than others. */
    readonly maxDiskDelay: number,
  ) {}

  mirrorLast(): number {
    return this.mirrorOffset + this.mirror.length;
  }

  mirrorTerm(index: number): number | undefined {
    if (index === this.mirrorOffset) return this.mirrorOffsetTerm;
    if (index < this.mirrorOffset || index > this.mirrorLast()) return undefined;
    return this.mirror[index - this.mirrorOffset - 1]!.term;
  }
}

interface Event {
  time: number;
  seq: number;
  run: () => void;
}

class EventQueue {
  private heap: Event[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(time: number, run: () => void): void {
    const e = { time, seq: this.seq++, run };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  peek(): Event | undefined {
    return this.heap[0];
  }

  pop(): Event | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Event, b: Event): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

interface Faults {
  drop: number;
  duplicate: number;
  maxDelay: number;
  longDelay: number;
  maxDiskDelay: number;
  faultEvery: number;
  crashes: boolean;
  partitions: boolean;
  transfers: boolean;
  membership: boolean;
}

export class Simulation {
  private readonly prng: Prng;
  private readonly events = new EventQueue();
  private now = 0;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly initialConf: ConfState;
  private readonly cut = new Set<string>();
  private readonly faults: Faults;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly chaosEnd: number;
  private chaos = true;
  private readonly trace: string[] = [];
  private readonly traceAll: boolean;

  // Global knowledge for the safety checks.
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** (index, term) -> the previous entry's term and the entry's content: log matching. */
  private readonly entryAt = new Map<string, string>();
  /** committed[i]: term and content of the entry committed at i. */
  private readonly committed: string[] = [];
  private globalCommit = 0;
  private readonly appliedAt: string[] = [];
  private readonly effectiveIndex = new Map<string, number>();

  // Membership: spare nodes started to join, and ids that may never come back.
  private readonly joined = new Set<NodeId>();
  private readonly removalProposed = new Set<NodeId>();

  // Clients.
  private readonly history: ClientOp[] = [];
  private readonly clients: number;
  private readonly nextSeq: number[] = [];

  private readonly stats: SimulationStats;

  constructor(
    readonly seed: number,
    opts: { trace?: boolean } = {},
  ) {
    this.prng = new Prng(seed);
    this.traceAll = opts.trace ?? false;
    const p = this.prng;
    const voters = p.chance(0.5) ? 3 : 5;
    const spares = p.chance(0.5) ? 2 : 0;
    this.preVote = p.chance(0.85);
    this.checkQuorum = p.chance(0.85);
    this.faults = {
      drop: p.pick([0, 0.01, 0.05, 0.15]),
      duplicate: p.pick([0, 0.02, 0.1]),
      maxDelay: p.between(2, 12),
      longDelay: p.pick([0, 0.02, 0.05]),
      maxDiskDelay: p.pick([0, 3, 10, 30]),
      faultEvery: p.between(150, 1200),
      crashes: p.chance(0.8),
      partitions: p.chance(0.8),
      transfers: p.chance(0.5),
      membership: spares > 0,
    };
    this.chaosEnd = p.between(8_000, 16_000);
    this.clients = p.between(2, 5);
    const ids: NodeId[] = [];
    for (let i = 1; i <= voters; i++) ids.push(BigInt(i));
    this.initialConf = { voters: ids, learners: [] };
    for (let i = 1; i <= voters + spares; i++) this.nodes.set(BigInt(i), this.newNode(BigInt(i)));
    for (const id of ids) this.nodes.get(id)!.wasMember = true;
    this.stats = {
      seed,
      nodes: voters,
      events: 0,
      elections: 0,
      commits: 0,
      writesAcked: 0,
      readsAcked: 0,
      snapshotsSent: 0,
      crashes: 0,
      partitions: 0,
      transfers: 0,
      confChanges: 0,
      recoveryTicks: 0,
    };
    this.log(
      `seed ${seed}: ${voters} voters + ${spares} spares, preVote=${this.preVote} checkQuorum=${this.checkQuorum} ` +
        `faults=${JSON.stringify(this.faults)} chaosEnd=${this.chaosEnd} clients=${this.clients}`,
    );
  }

  run(): SimulationStats {
    try {
      for (const id of this.initialConf.voters) this.start(this.nodes.get(id)!);
      for (let c = 0; c < this.clients; c++) {
        this.nextSeq.push(1);
        this.at(this.prng.between(50, 300), () => this.clientStep(c));
      }
      this.at(this.faults.faultEvery, () => this.injectFault());
      this.at(this.chaosEnd, () => this.endChaos());
      this.loop(this.chaosEnd);
      this.recover();
      this.finalChecks();
      return this.stats;
    } catch (e) {
      if (e instanceof SimulationFailure) throw e;
      const err = e as Error;
      throw new SimulationFailure(this.seed, `${err.name}: ${err.message}\n${err.stack ?? ''}`, this.trace);
    }
  }

  // ---- the event loop ---------------------------------------------------------------------

  private at(delay: number, run: () => void): void {
    this.events.push(this.now + delay, run);
  }

  private loop(until: number): void {
    for (;;) {
      const next = this.events.peek();
      if (next === undefined || next.time > until) {
        this.now = until;
        return;
      }
      const e = this.events.pop()!;
      this.now = e.time;
      e.run();
      if (++this.stats.events > MAX_EVENTS) this.fail('too many events');
      for (const n of this.nodes.values()) if (n.up) this.drain(n);
    }
  }

  private fail(what: string): never {
    throw new SimulationFailure(this.seed, what, this.trace);
  }

  private check(ok: boolean, what: () => string): void {
    if (!ok) this.fail(what());
  }

  private log(line: string): void {
    if (!this.traceAll) {
      if (this.trace.length >= 400) this.trace.splice(0, 200);
    }
    this.trace.push(`[${this.now}] ${line}`);
  }

  // ---- nodes ------------------------------------------------------------------------------

  private newNode(id: NodeId): SimNode {
    const sm = newStateMachine(this.initialConf);
    const disk: Disk = {
      hardState: { term: 0, vote: NONE, commit: 0 },
      snapshot: { index: 0, term: 0, conf: copyConf(this.initialConf) },
      snapshotData: sm,
      entries: [],
      checkpoint: sm,
    };
    const p = this.prng;
    const diskDelay = p.chance(0.2) ? p.pick([50, 150]) : this.faults.maxDiskDelay;
    return new SimNode(id, disk, p.between(5, 60), p.pick([0, 0, 3, 20]), diskDelay);
  }

  private raftConfig(id: NodeId): RaftConfig {
    const prng = this.prng;
    return {
      id,
      electionTick: ELECTION_TICK,
      heartbeatTick: 1,
      preVote: this.preVote,
      checkQuorum: this.checkQuorum,
      maxInflightMessages: prng.pick([1, 4, 64]),
      maxSizePerMessage: prng.pick([1, 64, 1024]),
      maxUncommittedSize: prng.pick([256, 1 << 20]),
      random: (n) => prng.int(n),
    };
  }

  /** Starts (or restarts) a node from its disk. */
  private start(n: SimNode): void {
    const d = n.disk;
    n.sm = copyStateMachine(d.checkpoint.applied >= d.snapshot.index ? d.checkpoint : d.snapshotData);
    n.raft = new RaftNode(this.raftConfig(n.id), {
      hardState: d.hardState,
      snapshot: d.snapshot,
      entries: d.entries.slice(),
      applied: n.sm.applied,
      conf: n.sm.conf,
    });
    n.incarnation++;
    n.up = true;
    n.mirrorOffset = d.snapshot.index;
    n.mirrorOffsetTerm = d.snapshot.term;
    n.mirror = d.entries.slice();
    n.checkedCommit = 0;
    n.lastWriteDone = this.now;
    n.snapshot = { meta: d.snapshot, data: d.snapshotData };
    n.incoming.clear();
    n.reads.clear();
    n.readWaiters = [];
    n.writes.clear();
    this.log(`start ${n.id} (incarnation ${n.incarnation}) term=${d.hardState.term} applied=${n.sm.applied} last=${n.mirrorLast()}`);
    const inc = n.incarnation;
    const tickEvery = this.prng.between(TICK - 1, TICK + 1);
    const tick = (): void => {
      if (!n.up || n.incarnation !== inc) return;
      n.raft.tick();
      this.at(tickEvery, tick);
    };
    this.at(this.prng.between(1, tickEvery), tick);
  }

  private crash(n: SimNode): void {
    this.log(`crash ${n.id}`);
    n.up = false;
    n.incarnation++; // pending disk writes and timers of the old incarnation are void
    this.stats.crashes++;
  }

  // ---- Ready ------------------------------------------------------------------------------

  private drain(n: SimNode): void {
    let guard = 0;
    while (n.up && n.raft.hasReady()) {
      if (++guard > 1000) this.fail(`node ${n.id} keeps having a Ready`);
      this.handleReady(n, n.raft.ready());
    }
  }

  private handleReady(n: SimNode, rd: Ready): void {
    const raft = n.raft;
    if (this.traceAll) this.log(`ready ${n.id}: ${describeReady(rd)}`);
    if (raft.role === Role.Leader) {
      const other = this.leaderOfTerm.get(raft.term);
      this.check(other === undefined || other === n.id, () => `two leaders in term ${raft.term}: ${other} and ${n.id}`);
      if (other === undefined) {
        this.leaderOfTerm.set(raft.term, n.id);
        this.stats.elections++;
        this.log(`${n.id} is leader of term ${raft.term}`);
      }
    }
    if (rd.snapshot !== undefined) {
      n.mirrorOffset = rd.snapshot.index;
      n.mirrorOffsetTerm = rd.snapshot.term;
      n.mirror = [];
    }
    if (rd.entries.length > 0) this.appendToMirror(n, rd.entries);
    if (rd.hardState !== undefined) this.checkCommitted(n, rd.hardState.commit);
    if (rd.softState?.role === Role.Leader) this.checkLeaderCompleteness(n);

    for (const m of rd.messages) this.send(n, m);
    this.persist(n, rd);
    for (const e of rd.committedEntries) this.apply(n, e);
    if (rd.committedEntries.length > 0) this.afterApply(n);
    for (const rs of rd.readStates) {
      const key = new TextDecoder().decode(rs.context);
      const op = n.reads.get(key);
      if (op === undefined) continue;
      n.reads.delete(key);
      n.readWaiters.push({ index: rs.index, op });
    }
    this.serveReads(n);
  }

  private appendToMirror(n: SimNode, entries: readonly Entry[]): void {
    const first = entries[0]!.index;
    this.check(first > n.mirrorOffset && first <= n.mirrorLast() + 1, () => `node ${n.id}: Ready entries from ${first} do not attach to the log [${n.mirrorOffset}, ${n.mirrorLast()}]`);
    this.check(first > n.checkedCommit, () => `node ${n.id}: entries from ${first} replace committed entries (commit ${n.checkedCommit})`);
    n.mirror.length = first - n.mirrorOffset - 1;
    for (const e of entries) {
      const prevTerm = n.mirrorTerm(e.index - 1);
      const content = `${prevTerm}|${entryKey(e.type, e.data)}`;
      const key = `${e.index}/${e.term}`;
      const seen = this.entryAt.get(key);
      this.check(seen === undefined || seen === content, () => `log matching: entry ${key} on ${n.id} is ${content}, elsewhere ${seen}`);
      if (seen === undefined) this.entryAt.set(key, content);
      n.mirror.push(e);
    }
  }

  private checkCommitted(n: SimNode, commit: number): void {
    this.check(commit <= n.mirrorLast(), () => `node ${n.id}: commit ${commit} beyond its log ${n.mirrorLast()}`);
    for (let i = Math.max(n.checkedCommit, n.mirrorOffset) + 1; i <= commit; i++) {
      const e = n.mirror[i - n.mirrorOffset - 1]!;
      const content = `${e.term}|${entryKey(e.type, e.data)}`;
      const seen = this.committed[i];
      this.check(seen === undefined || seen === content, () => `committed entry ${i} changed: ${seen} then ${content} on ${n.id}`);
      if (seen === undefined) {
        this.committed[i] = content;
        this.stats.commits++;
      }
    }
    if (commit > n.checkedCommit) n.checkedCommit = commit;
    if (commit > this.globalCommit) this.globalCommit = commit;
  }

  private checkLeaderCompleteness(n: SimNode): void {
    for (let i = n.mirrorOffset + 1; i <= this.globalCommit; i++) {
      const t = n.mirrorTerm(i);
      const want = this.committed[i];
      this.check(
        want === undefined || (t !== undefined && want.startsWith(`${t}|`)),
        () => `leader completeness: new leader ${n.id} (term ${n.raft.term}) has term ${t} at ${i}, committed was ${want}`,
      );
    }
  }

  // ---- disk -------------------------------------------------------------------------------

  private persist(n: SimNode, rd: Ready): void {
    const hasWrite = rd.hardState !== undefined || rd.snapshot !== undefined || rd.entries.length > 0;
    this.check(
      rd.messagesAfterPersist.length === 0 || rd.hardState !== undefined,
      () => `node ${n.id}: a Ready with messagesAfterPersist has no HardState to write`,
    );
    if (!hasWrite) return;
    const inc = n.incarnation;
    if (!rd.mustSync) {
      // As the member does: no write, the replies wait for the earlier writes only.
      this.events.push(Math.max(this.now, n.lastWriteDone), () => {
        if (n.incarnation !== inc) return;
        for (const m of rd.messagesAfterPersist) this.send(n, m);
      });
      return;
    }
    let snapshotData: StateMachine | undefined;
    if (rd.snapshot !== undefined) {
      snapshotData = n.incoming.get(rd.snapshot.index);
      this.check(snapshotData !== undefined, () => `node ${n.id}: no data for snapshot ${rd.snapshot!.index}`);
      n.incoming.clear();
      n.snapshot = { meta: rd.snapshot, data: snapshotData! };
    }
    // Writes complete in order, but overlap (the disk syncs them in groups).
    const done = Math.max(this.now + this.prng.between(0, n.maxDiskDelay), n.lastWriteDone);
    n.lastWriteDone = done;
    this.events.push(done, () => {
      if (n.incarnation !== inc) return; // the node crashed before this write was durable
      if (this.traceAll) this.log(`durable ${n.id}: ${describeReady(rd)}`);
      this.writeToDisk(n, rd, snapshotData);
      if (rd.snapshot !== undefined) {
        n.sm = copyStateMachine(snapshotData!);
        n.raft.applied(rd.snapshot.index);
        this.log(`${n.id} installed snapshot ${rd.snapshot.index}/${rd.snapshot.term}`);
      }
      for (const m of rd.messagesAfterPersist) this.send(n, m);
      const last = rd.entries[rd.entries.length - 1];
      if (last !== undefined) n.raft.persisted(last.index, last.term);
      else if (rd.snapshot !== undefined) n.raft.persisted(rd.snapshot.index, rd.snapshot.term);
    });
  }

  private writeToDisk(n: SimNode, rd: Ready, snapshotData: StateMachine | undefined): void {
    const d = n.disk;
    if (rd.hardState !== undefined) d.hardState = { ...rd.hardState };
    if (rd.snapshot !== undefined) {
      d.snapshot = rd.snapshot;
      d.snapshotData = snapshotData!;
      d.entries = [];
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      const last = d.snapshot.index + d.entries.length;
      this.check(first > d.snapshot.index && first <= last + 1, () => `node ${n.id}: disk write from ${first} does not attach to [${d.snapshot.index}, ${last}]`);
      d.entries.length = first - d.snapshot.index - 1;
      for (const e of rd.entries) d.entries.push(e);
    }
    this.check(
      d.hardState.commit <= d.snapshot.index + d.entries.length,
      () => `node ${n.id}: durable commit ${d.hardState.commit} beyond the durable log`,
    );
  }

  private durableOnDisk(n: SimNode, e: Entry): boolean {
    const d = n.disk;
    if (e.index <= d.snapshot.index) return false;
    const onDisk = d.entries[e.index - d.snapshot.index - 1];
    return onDisk !== undefined && onDisk.term === e.term;
  }

  // ---- the state machine ------------------------------------------------------------------

  private apply(n: SimNode, e: Entry): void {
    this.check(e.index === n.sm.applied + 1, () => `node ${n.id}: applying ${e.index} after ${n.sm.applied}`);
    this.check(this.durableOnDisk(n, e), () => `node ${n.id}: committed entry ${e.index} handed out before it was durable`);
    const content = `${e.term}|${entryKey(e.type, e.data)}`;
    const seen = this.appliedAt[e.index];
    this.check(seen === undefined || seen === content, () => `state machine safety: ${n.id} applies ${content} at ${e.index}, another node ${seen}`);
    this.appliedAt[e.index] = content;
    n.sm.applied = e.index;
    n.sm.appliedTerm = e.term;
    if (e.type === EntryType.ConfChange) {
      const cc = decodeConf(e.data);
      n.sm.conf = n.raft.applyConfChange(cc);
      this.log(`${n.id} applied conf change ${cc.type} ${cc.nodeId} at ${e.index}: ${JSON.stringify(n.sm.conf, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}`);
      return;
    }
    const w = decodeWrite(e.data);
    if (w === undefined) return;
    if ((n.sm.lastSeq.get(w.client) ?? 0) >= w.seq) return; // a duplicate delivery
    n.sm.lastSeq.set(w.client, w.seq);
    n.sm.kv.set(w.key, { value: w.value, index: e.index });
    const opKey = `${w.client}/${w.seq}`;
    const effective = this.effectiveIndex.get(opKey);
    this.check(effective === undefined || effective === e.index, () => `write ${opKey} took effect at ${effective} and ${e.index}`);
    this.effectiveIndex.set(opKey, e.index);
    const op = n.writes.get(opKey);
    if (op !== undefined) {
      n.writes.delete(opKey);
      this.complete(op, e.index);
    }
  }

  private afterApply(n: SimNode): void {
    n.raft.applied(n.sm.applied);
    if (this.prng.chance(0.3)) n.disk.checkpoint = copyStateMachine(n.sm);
    if (n.sm.applied - n.snapshot.meta.index >= n.compactEvery) {
      const meta: SnapshotMeta = { index: n.sm.applied, term: n.sm.appliedTerm, conf: copyConf(n.sm.conf) };
      const data = copyStateMachine(n.sm);
      n.raft.compact(meta, n.retain);
      n.snapshot = { meta, data };
      const d = n.disk;
      d.entries = d.entries.slice(meta.index - d.snapshot.index);
      d.snapshot = meta;
      d.snapshotData = data;
      if (d.checkpoint.applied < meta.index) d.checkpoint = data;
    }
    // A member that applied its own removal shuts down (a new node starts outside the cluster).
    const member = n.sm.conf.voters.includes(n.id) || n.sm.conf.learners.includes(n.id);
    if (member) n.wasMember = true;
    else if (n.wasMember) {
      this.log(`${n.id} was removed: shutting down`);
      n.up = false;
      n.retired = true;
      n.incarnation++;
    }
  }

  private serveReads(n: SimNode): void {
    if (n.readWaiters.length === 0) return;
    const waiting: { index: number; op: ClientOp }[] = [];
    for (const w of n.readWaiters) {
      if (n.sm.applied < w.index) {
        waiting.push(w);
        continue;
      }
      const v = n.sm.kv.get(w.op.key);
      this.complete(w.op, v?.index ?? 0);
    }
    n.readWaiters = waiting;
  }

  // ---- network ----------------------------------------------------------------------------

  private send(from: SimNode, m: Message): void {
    this.check(m.from === from.id && m.to !== from.id, () => `node ${from.id} sent a bad message ${describe(m)}`);
    const snapshotData = m.type === MessageType.Snap ? this.snapshotFor(from, m) : undefined;
    const f = this.faults;
    const dropped = this.cut.has(`${from.id}>${m.to}`) || (this.chaos && this.prng.chance(f.drop));
    if (dropped) {
      if (snapshotData !== undefined) this.reportSnapshot(from, m.to, false);
      else if (this.prng.chance(0.2)) {
        const inc = from.incarnation;
        this.at(this.prng.between(1, 20), () => {
          if (from.up && from.incarnation === inc) from.raft.reportUnreachable(m.to);
        });
      }
      return;
    }
    const copies = this.chaos && this.prng.chance(f.duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const longDelay = this.chaos && this.prng.chance(f.longDelay);
      const delay = longDelay ? this.prng.between(50, 400) : this.prng.between(1, f.maxDelay);
      this.at(delay, () => this.deliver(from, m, snapshotData, i === 0));
    }
  }

  private snapshotFor(from: SimNode, m: Message): StateMachine {
    this.check(
      m.snapshot !== undefined && m.snapshot.index === from.snapshot.meta.index && m.snapshot.term === from.snapshot.meta.term,
      () => `node ${from.id} sent a MsgSnap for ${m.snapshot?.index}, its snapshot is ${from.snapshot.meta.index}`,
    );
    this.stats.snapshotsSent++;
    return from.snapshot.data;
  }

  private deliver(from: SimNode, m: Message, snapshotData: StateMachine | undefined, report: boolean): void {
    const to = this.nodes.get(m.to);
    const ok = to !== undefined && to.up && !this.cut.has(`${from.id}>${m.to}`);
    if (snapshotData !== undefined && report) this.reportSnapshot(from, m.to, ok);
    if (!ok) return;
    if (snapshotData !== undefined) to.incoming.set(m.snapshot!.index, snapshotData);
    if (this.traceAll) this.log(`deliver ${describe(m)}`);
    to.raft.step(m);
  }

  private reportSnapshot(from: SimNode, to: NodeId, ok: boolean): void {
    const inc = from.incarnation;
    this.at(this.prng.between(1, 10), () => {
      if (from.up && from.incarnation === inc) from.raft.reportSnapshot(to, ok);
    });
  }

  // ---- clients ----------------------------------------------------------------------------

  private clientStep(client: number): void {
    if (!this.chaos) return;
    const candidates = [...this.nodes.values()].filter((n) => n.up);
    if (candidates.length === 0) {
      this.at(this.prng.between(10, 100), () => this.clientStep(client));
      return;
    }
    const n = this.prng.pick(candidates);
    const seq = this.nextSeq[client]!++;
    const kind = this.prng.chance(0.55) ? 'write' : 'read';
    const op: ClientOp = {
      client,
      seq,
      kind,
      key: this.prng.pick(KEYS),
      value: `v${client}.${seq}`,
      node: n.id,
      inv: this.now,
      resp: Infinity,
      done: false,
      index: undefined,
    };
    const opKey = `${client}/${seq}`;
    try {
      if (kind === 'write') {
        n.writes.set(opKey, op);
        n.raft.propose([encodeWrite({ client, seq, key: op.key, value: op.value })]);
      } else {
        n.reads.set(opKey, op);
        n.raft.readIndex(new TextEncoder().encode(opKey));
      }
    } catch (e) {
      if (!(e instanceof ProposalDropped)) throw e;
      n.writes.delete(opKey);
      n.reads.delete(opKey);
      // Refused outright: it never happened.
      this.at(this.prng.between(10, 100), () => this.clientStep(client));
      return;
    }
    this.history.push(op);
    this.at(this.prng.between(300, 800), () => {
      if (op.done) return;
      op.done = true; // the client gives up: the outcome stays unknown
      this.clientStep(client);
    });
  }

  private complete(op: ClientOp, index: number): void {
    if (op.done) return;
    op.done = true;
    op.resp = this.now;
    op.index = index;
    if (op.kind === 'write') this.stats.writesAcked++;
    else this.stats.readsAcked++;
    this.at(this.prng.between(1, 60), () => this.clientStep(op.client));
  }

  // ---- faults -----------------------------------------------------------------------------

  private injectFault(): void {
    if (!this.chaos) return;
    this.at(this.prng.between(this.faults.faultEvery >> 1, this.faults.faultEvery * 2), () => this.injectFault());
    const f = this.faults;
    const kinds: (() => void)[] = [];
    if (f.crashes) kinds.push(() => this.crashSomeone());
    if (f.partitions) kinds.push(() => this.partition());
    if (f.transfers) kinds.push(() => this.transfer());
    if (f.membership) kinds.push(() => this.changeMembership());
    if (kinds.length > 0) this.prng.pick(kinds)();
  }

  private live(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  private crashSomeone(): void {
    const live = this.live();
    if (live.length === 0) return;
    // Often the leader, and often right after it appended something.
    const n = (this.prng.chance(0.5) ? this.leader() : undefined) ?? this.prng.pick(live);
    this.crash(n);
    this.at(this.prng.chance(0.3) ? this.prng.between(5, 100) : this.prng.between(100, 1500), () => {
      if (!n.up && !n.retired) this.start(n);
    });
  }

  private partition(): void {
    const ids = [...this.nodes.values()].filter((n) => !n.retired).map((n) => n.id);
    const links: string[] = [];
    const kind = this.prng.int(3);
    if (kind === 0) {
      // Isolate one node, often the leader.
      const x = (this.prng.chance(0.5) ? this.leader()?.id : undefined) ?? this.prng.pick(ids);
      for (const y of ids) if (y !== x) links.push(`${x}>${y}`, `${y}>${x}`);
    } else if (kind === 1) {
      // Split in two groups.
      const shuffled = this.prng.shuffle(ids.slice());
      const k = this.prng.between(1, shuffled.length - 1);
      for (const x of shuffled.slice(0, k)) for (const y of shuffled.slice(k)) links.push(`${x}>${y}`, `${y}>${x}`);
    } else {
      // Some one-way cuts.
      for (let i = 0; i < this.prng.between(1, ids.length); i++) {
        const x = this.prng.pick(ids);
        const y = this.prng.pick(ids);
        if (x !== y) links.push(`${x}>${y}`);
      }
    }
    const added = links.filter((l) => !this.cut.has(l));
    for (const l of added) this.cut.add(l);
    this.stats.partitions++;
    this.log(`partition ${added.join(' ')}`);
    this.at(this.prng.between(100, 2000), () => {
      for (const l of added) this.cut.delete(l);
      this.log(`heal ${added.join(' ')}`);
    });
  }

  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.up && n.raft.role === Role.Leader && (best === undefined || n.raft.term > best.raft.term)) best = n;
    }
    return best;
  }

  private transfer(): void {
    const l = this.leader();
    if (l === undefined) return;
    const voters = l.raft.confState().voters.filter((id) => id !== l.id);
    if (voters.length === 0) return;
    const to = this.prng.pick(voters);
    this.stats.transfers++;
    this.log(`transfer leadership ${l.id} -> ${to}`);
    l.raft.transferLeader(to);
  }

  private changeMembership(): void {
    const l = this.leader();
    if (l === undefined) return;
    const conf = l.raft.confState();
    const members = [...conf.voters, ...conf.learners];
    // A removed id never comes back (etcd gives a re-added member a new id).
    const outsiders = [...this.nodes.values()].filter(
      (n) => !n.retired && !members.includes(n.id) && !this.initialConf.voters.includes(n.id) && !this.removalProposed.has(n.id),
    );
    const options: { type: ConfChangeType; node: NodeId; start?: SimNode }[] = [];
    for (const n of outsiders) {
      options.push({ type: ConfChangeType.AddLearnerNode, node: n.id, start: n });
      options.push({ type: ConfChangeType.AddNode, node: n.id, start: n });
    }
    for (const id of conf.learners) options.push({ type: ConfChangeType.AddNode, node: id });
    if (conf.voters.length > 3) for (const id of conf.voters) options.push({ type: ConfChangeType.RemoveNode, node: id });
    for (const id of conf.learners) options.push({ type: ConfChangeType.RemoveNode, node: id });
    if (options.length === 0) return;
    const c = this.prng.pick(options);
    if (c.start !== undefined && !c.start.up) {
      this.joined.add(c.start.id);
      this.start(c.start);
    }
    try {
      l.raft.proposeConfChange(encodeConf(c.type, c.node));
      if (c.type === ConfChangeType.RemoveNode) this.removalProposed.add(c.node);
      this.stats.confChanges++;
      this.log(`propose conf change ${c.type} ${c.node} on ${l.id}`);
    } catch (e) {
      if (!(e instanceof ProposalDropped)) throw e;
    }
  }

  // ---- the end ----------------------------------------------------------------------------

  private endChaos(): void {
    this.chaos = false;
    this.cut.clear();
    this.log('end of faults: healing everything');
    for (const n of this.nodes.values()) if (!n.up && !n.retired && (n.wasMember || this.joined.has(n.id))) this.start(n);
  }

  /** Liveness: after healing, a leader must commit a write that every member applies. */
  private recover(): void {
    const deadline = this.chaosEnd + 60 * ELECTION_TICK * TICK;
    let marker: { seq: number; at: number } | undefined;
    const client = this.clients; // a client of its own
    this.nextSeq.push(1);
    while (this.now < deadline) {
      this.loop(this.now + TICK);
      const l = this.leader();
      if (l === undefined) continue;
      if (marker === undefined) {
        try {
          const seq = this.nextSeq[client]!++;
          l.raft.propose([encodeWrite({ client, seq, key: 'marker', value: 'm' })]);
          marker = { seq, at: this.now };
        } catch (e) {
          if (!(e instanceof ProposalDropped)) throw e;
          continue;
        }
      }
      const index = this.effectiveIndex.get(`${client}/${marker.seq}`);
      if (index === undefined) {
        // Probably lost with a leader change: propose again.
        if (this.now - marker.at > 3 * ELECTION_TICK * TICK) marker = undefined;
        continue;
      }
      const conf = l.raft.confState();
      const members = [...conf.voters, ...conf.learners].map((id) => this.nodes.get(id)!);
      if (members.every((n) => n.up && n.sm.applied >= index)) {
        this.stats.recoveryTicks = Math.ceil((this.now - this.chaosEnd) / TICK);
        this.log(`recovered after ${this.stats.recoveryTicks} ticks: leader ${l.id} term ${l.raft.term}, marker at ${index}`);
        return;
      }
    }
    const status = [...this.nodes.values()].map((n) => (n.up ? `${n.id}: ${describeStatus(n.raft)} applied=${n.sm.applied}` : `${n.id}: down${n.retired ? ' (retired)' : ''}`));
    this.fail(`liveness: no write committed on every member within ${deadline - this.chaosEnd} time units after healing\n${status.join('\n')}`);
  }

  private finalChecks(): void {
    // Members that applied the same prefix have the same state.
    const up = [...this.nodes.values()].filter((n) => n.up);
    for (const a of up) {
      for (const b of up) {
        if (a.sm.applied === b.sm.applied) this.check(sameStateMachine(a.sm, b.sm), () => `nodes ${a.id} and ${b.id} differ at applied ${a.sm.applied}`);
      }
    }
    const history: HistoryOp[] = this.history.map((op) => ({
      kind: op.kind,
      key: op.key,
      inv: op.inv,
      resp: op.resp,
      index: op.kind === 'write' ? this.effectiveIndex.get(`${op.client}/${op.seq}`) : op.index,
      label: `${op.kind}(${op.key}=${op.kind === 'write' ? op.value : '?'}) by client ${op.client} on node ${op.node} [${op.inv}, ${op.resp}]`,
    }));
    for (const op of history) {
      if (op.kind === 'write' && op.resp !== Infinity && op.index === undefined) this.fail(`acknowledged ${op.label} is not in the log`);
    }
    const bad = checkLinearizable(history);
    if (bad !== undefined) this.fail(`not linearizable: ${bad}`);
  }
}

function describe(m: Message): string {
  const t = MESSAGE_NAMES[m.type] ?? String(m.type);
  let s = `${t} ${m.from}->${m.to} term=${m.term}`;
  if (m.type === MessageType.App) s += ` prev=${m.index}/${m.logTerm} n=${m.entries.length} commit=${m.commit}`;
  if (m.type === MessageType.AppResp) s += ` index=${m.index}${m.reject ? ` reject hint=${m.rejectHint}/${m.logTerm}` : ''}`;
  if (m.type === MessageType.VoteResp || m.type === MessageType.PreVoteResp) s += m.reject ? ' reject' : ' grant';
  if (m.type === MessageType.Snap) s += ` snap=${m.snapshot?.index}/${m.snapshot?.term}`;
  return s;
}

function describeReady(rd: Ready): string {
  const parts: string[] = [];
  if (rd.softState !== undefined) parts.push(`soft=${rd.softState.leader}/${rd.softState.role}`);
  if (rd.hardState !== undefined) parts.push(`hs=${rd.hardState.term}/${rd.hardState.vote}/${rd.hardState.commit}`);
  if (rd.snapshot !== undefined) parts.push(`snap=${rd.snapshot.index}/${rd.snapshot.term}`);
  if (rd.entries.length > 0) parts.push(`entries=${rd.entries[0]!.index}..${rd.entries[rd.entries.length - 1]!.index}`);
  if (rd.committedEntries.length > 0) {
    parts.push(`apply=${rd.committedEntries[0]!.index}..${rd.committedEntries[rd.committedEntries.length - 1]!.index}`);
  }
  if (rd.messages.length > 0) parts.push(`send=[${rd.messages.map(describe).join('; ')}]`);
  if (rd.messagesAfterPersist.length > 0) parts.push(`after=[${rd.messagesAfterPersist.map(describe).join('; ')}]`);
  if (rd.readStates.length > 0) parts.push(`reads=${rd.readStates.length}`);
  return parts.join(' ');
}

function describeStatus(r: RaftNode): string {
  const s = r.status();
  return `term=${s.term} role=${s.role} leader=${s.leader} commit=${s.commit} last=${s.lastIndex}`;
}

const MESSAGE_NAMES: Record<number, string> = {
  [MessageType.Prop]: 'Prop',
  [MessageType.App]: 'App',
  [MessageType.AppResp]: 'AppResp',
  [MessageType.Vote]: 'Vote',
  [MessageType.VoteResp]: 'VoteResp',
  [MessageType.Snap]: 'Snap',
  [MessageType.Heartbeat]: 'Heartbeat',
  [MessageType.HeartbeatResp]: 'HeartbeatResp',
  [MessageType.TransferLeader]: 'TransferLeader',
  [MessageType.TimeoutNow]: 'TimeoutNow',
  [MessageType.ReadIndex]: 'ReadIndex',
  [MessageType.ReadIndexResp]: 'ReadIndexResp',
  [MessageType.PreVote]: 'PreVote',
  [MessageType.PreVoteResp]: 'PreVoteResp',
};
