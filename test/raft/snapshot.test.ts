// Raft §7 log compaction: a follower that needs compacted entries catches up with a snapshot.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RaftNode } from '../../src/main/raft/node.js';
import { EntryType, MessageType, NONE } from '../../src/main/raft/types.js';
import { bootstrap, Cluster, config, msg, str, text } from './harness.js';

function compactLeader(c: Cluster, id: bigint, retain = 0): number {
  const p = c.peer(id);
  const last = p.applied.at(-1)!;
  const meta = { index: last.index, term: last.term, conf: p.conf };
  p.node.compact(meta, retain);
  p.storage.compact(meta);
  return meta.index;
}

describe('§7 snapshots', () => {
  test('a lagging follower gets a snapshot, then the entries after it', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.isolate(3n);
    for (let i = 0; i < 5; i++) c.node(1n).propose([text(`e${i}`)]);
    c.stabilize();
    const snapIndex = compactLeader(c, 1n);
    c.node(1n).propose([text('after')]);
    c.stabilize();
    c.heal();
    c.delivered.length = 0;
    c.tick([1n]);
    c.stabilize();
    const toAndFrom3 = c.delivered.filter((m) => (m.to === 3n || m.from === 3n) && m.type !== MessageType.Heartbeat && m.type !== MessageType.HeartbeatResp);
    const snap = toAndFrom3.findIndex((m) => m.type === MessageType.Snap);
    assert.ok(snap >= 0);
    assert.equal(toAndFrom3[snap]!.snapshot!.index, snapIndex);
    // Nothing else is sent to it until it answers the snapshot.
    assert.deepEqual(
      [toAndFrom3[snap + 1]!.type, toAndFrom3[snap + 1]!.from, toAndFrom3[snap + 1]!.index],
      [MessageType.AppResp, 3n, snapIndex],
    );
    c.node(1n).reportSnapshot(3n, true); // late report: harmless
    c.tick([1n]);
    c.stabilize();
    assert.equal(c.peer(3n).storage.snapshot.index, snapIndex);
    assert.equal(str(c.peer(3n).applied.at(-1)!.data), 'after');
    assert.equal(c.node(1n).status().progress!.get(3n)!.state, 'replicate');
  });

  test('a failed snapshot is retried', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.isolate(3n);
    c.node(1n).propose([text('x')]);
    c.stabilize();
    compactLeader(c, 1n);
    c.heal();
    c.cut.add('1>3'); // the snapshot is lost on the way
    c.tick([1n]);
    c.stabilize();
    c.node(1n).reportSnapshot(3n, false);
    c.heal();
    for (let i = 0; i < 5; i++) {
      c.tick([1n]);
      c.stabilize();
    }
    assert.ok(c.delivered.some((m) => m.type === MessageType.Snap && m.to === 3n));
    c.node(1n).reportSnapshot(3n, true);
    c.tick([1n]);
    c.stabilize();
    assert.equal(str(c.peer(3n).applied.at(-1)?.data ?? new Uint8Array()), '', 'caught up through the snapshot');
    assert.equal(c.node(3n).status().commit, c.node(1n).status().commit);
  });

  test('a stale snapshot is acknowledged at the commit index, not beyond it', () => {
    const n = new RaftNode(config(2n), {
      ...bootstrap([1n, 2n, 3n]),
      hardState: { term: 2, vote: NONE, commit: 2 },
      entries: [1, 1, 2].map((term, i) => ({ term, index: i + 1, type: EntryType.Normal, data: text('x') })),
    });
    n.step(msg({ type: MessageType.Snap, from: 1n, to: 2n, term: 3, snapshot: { index: 1, term: 1, conf: { voters: [1n, 2n, 3n], learners: [] } } }));
    const resp = n.ready().messagesAfterPersist.find((m) => m.type === MessageType.AppResp)!;
    assert.equal(resp.index, 2, 'entry 3 is uncommitted and may differ from the leader\'s');
    assert.equal(n.status().lastIndex, 3, 'the log is kept');
  });

  test('entries retained behind the snapshot let a slightly lagging follower catch up without one', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    c.isolate(3n);
    for (let i = 0; i < 3; i++) c.node(1n).propose([text(`e${i}`)]);
    c.stabilize();
    compactLeader(c, 1n, 10);
    c.heal();
    c.tick([1n]);
    c.stabilize();
    assert.equal(c.delivered.filter((m) => m.type === MessageType.Snap).length, 0);
    assert.equal(str(c.peer(3n).applied.at(-1)!.data), 'e2');
  });

  test('a restarted node resumes from its snapshot and log without applying anything twice', () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.elect(1n);
    for (let i = 0; i < 4; i++) c.node(1n).propose([text(`e${i}`)]);
    c.stabilize();
    compactLeader(c, 2n);
    c.node(1n).propose([text('tail')]);
    c.stabilize();
    const applied = c.peer(2n).applied.length;
    c.peer(2n).restart();
    c.tick([1n]);
    c.stabilize();
    assert.equal(c.peer(2n).applied.length, applied, 'nothing re-applied');
    c.node(1n).propose([text('more')]);
    c.stabilize();
    assert.equal(str(c.peer(2n).applied.at(-1)!.data), 'more');
  });
});
