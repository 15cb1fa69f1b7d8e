// A small synchronous cluster for unit tests: every Ready is persisted at once, messages
// queue in one FIFO and are delivered by stabilize(); links can be cut one way or both.
import { RaftNode } from '../../src/main/raft/node.js';
import type {
  ConfChangeType,
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  RaftConfig,
  RaftRestore,
  ReadState,
  SnapshotMeta,
} from '../../src/main/raft/types.js';
import { EntryType, NONE, Role } from '../../src/main/raft/types.js';
import { Prng } from './prng.js';

export function config(id: NodeId, overrides: Partial<RaftConfig> = {}, seed = 1): RaftConfig {
  const prng = new Prng(seed * 1000 + Number(id));
  return {
    id,
    electionTick: 10,
    heartbeatTick: 1,
    preVote: false,
    checkQuorum: false,
    maxInflightMessages: 256,
    maxSizePerMessage: 1 << 20,
    maxUncommittedSize: 1 << 30,
    random: (n) => prng.int(n),
    ...overrides,
  };
}

export function bootstrap(voters: NodeId[], learners: NodeId[] = []): RaftRestore {
  return {
    hardState: { term: 0, vote: NONE, commit: 0 },
    snapshot: { index: 0, term: 0, conf: { voters, learners } },
    entries: [],
    applied: 0,
  };
}

export function encodeConfChange(type: ConfChangeType, nodeId: NodeId): Uint8Array {
  return new TextEncoder().encode(`${type}:${nodeId}`);
}

export function decodeConfChange(data: Uint8Array): { type: ConfChangeType; nodeId: NodeId } {
  const [t, id] = new TextDecoder().decode(data).split(':');
  return { type: Number(t) as ConfChangeType, nodeId: BigInt(id!) };
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** What a member keeps on disk. */
export class MemStorage {
  hardState: HardState = { term: 0, vote: NONE, commit: 0 };
  snapshot: SnapshotMeta = { index: 0, term: 0, conf: { voters: [], learners: [] } };
  entries: Entry[] = [];

  constructor(restore?: RaftRestore) {
    if (restore !== undefined) {
      this.hardState = { ...restore.hardState };
      this.snapshot = restore.snapshot;
      this.entries = restore.entries.slice();
    }
  }

  write(hs: HardState | undefined, snapshot: SnapshotMeta | undefined, entries: readonly Entry[]): void {
    if (hs !== undefined) this.hardState = { ...hs };
    if (snapshot !== undefined) {
      this.snapshot = snapshot;
      this.entries = [];
    }
    if (entries.length > 0) {
      const from = entries[0]!.index;
      this.entries.length = Math.max(0, from - this.snapshot.index - 1);
      this.entries.push(...entries);
    }
  }

  compact(snapshot: SnapshotMeta): void {
    this.entries = this.entries.filter((e) => e.index > snapshot.index);
    this.snapshot = snapshot;
  }
}

export class Peer {
  readonly storage: MemStorage;
  readonly applied: Entry[] = [];
  readonly readStates: ReadState[] = [];
  conf: ConfState;
  appliedIndex: number;
  node: RaftNode;

  constructor(
    readonly cfg: RaftConfig,
    restore: RaftRestore,
  ) {
    this.storage = new MemStorage(restore);
    this.conf = restore.conf ?? restore.snapshot.conf;
    this.appliedIndex = restore.applied;
    this.node = new RaftNode(cfg, restore);
  }

  /** Crash and restart from what is on disk. */
  restart(): void {
    const s = this.storage;
    this.node = new RaftNode(this.cfg, {
      hardState: s.hardState,
      snapshot: s.snapshot,
      entries: s.entries.slice(),
      applied: this.appliedIndex,
      conf: this.conf,
    });
  }
}

export class Cluster {
  readonly peers = new Map<NodeId, Peer>();
  queue: Message[] = [];
  /** Cut links, as "from>to". */
  readonly cut = new Set<string>();
  /** Everything delivered, for assertions on the traffic. */
  readonly delivered: Message[] = [];

  constructor(voters: NodeId[], overrides: Partial<RaftConfig> = {}, learners: NodeId[] = []) {
    for (const id of [...voters, ...learners]) this.add(id, overrides, bootstrap(voters, learners));
  }

  add(id: NodeId, overrides: Partial<RaftConfig>, restore: RaftRestore): Peer {
    const p = new Peer(config(id, overrides), restore);
    this.peers.set(id, p);
    return p;
  }

  peer(id: NodeId): Peer {
    return this.peers.get(id)!;
  }

  node(id: NodeId): RaftNode {
    return this.peer(id).node;
  }

  /** Handles every pending Ready of every node, once. */
  processReadies(): boolean {
    let any = false;
    for (const [id, p] of this.peers) {
      while (p.node.hasReady()) {
        any = true;
        this.handle(id, p);
      }
    }
    return any;
  }

  private handle(_id: NodeId, p: Peer): void {
    const rd = p.node.ready();
    p.storage.write(rd.hardState, rd.snapshot, rd.entries);
    this.queue.push(...rd.messages, ...rd.messagesAfterPersist);
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined) p.node.persisted(last.index, last.term);
    else if (rd.snapshot !== undefined) p.node.persisted(rd.snapshot.index, rd.snapshot.term);
    if (rd.snapshot !== undefined) {
      p.conf = rd.snapshot.conf;
      p.appliedIndex = rd.snapshot.index;
      p.node.applied(rd.snapshot.index);
    }
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.ConfChange) p.conf = p.node.applyConfChange(decodeConfChange(e.data));
      p.applied.push(e);
      p.appliedIndex = e.index;
    }
    if (rd.committedEntries.length > 0) p.node.applied(p.appliedIndex);
    p.readStates.push(...rd.readStates);
  }

  /** Delivers queued messages and handles Readies until nothing moves. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      const moved = this.processReadies();
      if (this.queue.length === 0) {
        if (!moved) return;
        continue;
      }
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) this.deliver(m);
    }
    throw new Error('cluster did not stabilize');
  }

  deliver(m: Message): void {
    if (this.cut.has(`${m.from}>${m.to}`)) return;
    const p = this.peers.get(m.to);
    if (p === undefined) return;
    this.delivered.push(m);
    p.node.step(m);
  }

  tick(ids: Iterable<NodeId> = this.peers.keys(), times = 1): void {
    for (let i = 0; i < times; i++) for (const id of ids) this.node(id).tick();
  }

  isolate(id: NodeId): void {
    for (const other of this.peers.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** Campaigns `id` and lets the election finish. */
  elect(id: NodeId): void {
    this.node(id).campaign();
    this.stabilize();
    if (this.node(id).role !== Role.Leader) throw new Error(`${id} did not win the election`);
  }

  leaders(): NodeId[] {
    return [...this.peers].filter(([, p]) => p.node.role === Role.Leader).map(([id]) => id);
  }
}

/** A message with zero values except for the given fields. */
export function msg(fields: Partial<Message> & Pick<Message, 'type' | 'from' | 'to'>): Message {
  return { term: 0, index: 0, logTerm: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...fields };
}

/** Takes a node's Ready and pretends it was persisted at once (without delivering anything). */
export function persistReady(node: RaftNode): ReturnType<RaftNode['ready']> {
  const rd = node.ready();
  const last = rd.entries[rd.entries.length - 1];
  if (last !== undefined) node.persisted(last.index, last.term);
  return rd;
}
