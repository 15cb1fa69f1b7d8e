// Locks and elections: `etcdctl lock` and `etcdctl elect` (client-side recipes over KV, Lease and
// Watch), the v3lock and v3election gRPC services called directly, and the etcd3 client's lock,
// each side by side with real etcd; and the services served by followers of a 3-member cluster.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Etcd3, EtcdLockFailedError } from 'etcd3';
import { GrpcChannel, grpcMethod, type GrpcMethod } from '../../src/main/api/grpc/client.js';
import { ElectionService, LeaseService, LockService } from '../../src/main/api/grpc/etcd-services.js';
import { encodeFrame } from '../../src/main/api/grpc/framing.js';
import { decode, type Init } from '../../src/main/api/proto/index.js';
import { clusterStatus, waitFor } from '../helpers/cluster.js';
import { etcdctl, ETCDCTL_BIN } from '../helpers/etcdctl.js';
import { startCluster, tempDir, type ServerProcess } from '../helpers/processes.js';
import { besideEtcd } from '../helpers/beside-etcd.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const b = (s: string) => Buffer.from(s);

/** Lease ids (and the keys named after them) differ between servers: number them by first appearance. */
function normalizeIds(text: string): string {
  const ids = new Map<string, string>();
  return text.replace(/\b[0-9a-f]{12,16}\b/g, (m) => {
    if (!ids.has(m)) ids.set(m, `<lease${ids.size + 1}>`);
    return ids.get(m)!;
  });
}

/** Messages as comparable text: bytes as strings, ids in hex, headers reduced to their revision. */
function show(value: unknown): string {
  return JSON.stringify(value, (k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString(16);
    if (v !== null && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') return Buffer.from((v as { data: number[] }).data).toString();
    if (k === 'header' && v !== null && typeof v === 'object') return { revision: (v as { revision: number }).revision };
    return v;
  });
}

/** A long-running etcdctl (lock holder, campaigner, observer) whose output is read as it comes. */
class Ctl {
  readonly child: ChildProcess;
  out = '';
  readonly exited: Promise<number | null>;

  constructor(endpoint: string, args: string[]) {
    this.child = spawn(ETCDCTL_BIN, [`--endpoints=${endpoint}`, '--dial-timeout=5s', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.out += d.toString().replace(/\{"level":"warn".*\n/g, '')));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  async waitOutput(text: string, what: string): Promise<void> {
    await waitFor(async () => this.out.includes(text), 15000, `${what}: ${JSON.stringify(text)} in ${JSON.stringify(this.out)}`);
  }

  /** SIGINT, as a user's ^C: etcdctl unlocks or resigns and exits. */
  async interrupt(): Promise<number | null> {
    this.child.kill('SIGINT');
    return this.exited;
  }
}

type Outcome<T> = { ok: T } | { error: string };

/** The lock and election services called directly, with the project's gRPC client. */
class Recipes {
  private constructor(private readonly channel: GrpcChannel) {}

  static async connect(server: ServerProcess): Promise<Recipes> {
    return new Recipes(await GrpcChannel.connect(server.clientUrl));
  }

  async call<Req, Res>(method: GrpcMethod<Req, Res>, req: Init<Req>): Promise<Outcome<Res>> {
    try {
      const payload = await this.channel.unary(method as GrpcMethod<unknown, unknown>, encodeFrame(method.request, req));
      return { ok: decode(method.response, payload) };
    } catch (e) {
      const err = e as { code: number; message: string };
      return { error: `code ${err.code}: ${err.message}` };
    }
  }

  /** A call that can be cancelled, or whose several responses are collected (Observe). */
  async open<Req, Res>(method: GrpcMethod<Req, Res>, req: Init<Req>) {
    const messages: Res[] = [];
    let status: string | undefined;
    const stream = await this.channel.stream(method as GrpcMethod<unknown, unknown>, {
      onMessage: (payload) => messages.push(decode(method.response, payload)),
      onEnd: (error) => (status = error === undefined ? 'OK' : `code ${(error as { code?: number }).code}: ${error.message}`),
    });
    stream.write(encodeFrame(method.request, req));
    stream.end();
    return { messages, status: () => status, cancel: () => stream.cancel() };
  }

  async grant(ttl: number): Promise<bigint> {
    const r = await this.call(GRANT, { TTL: ttl });
    if (!('ok' in r)) throw new Error(r.error);
    return r.ok.ID;
  }

  close(): void {
    this.channel.destroy();
  }
}

const LOCK = grpcMethod(LockService, 'Lock');
const UNLOCK = grpcMethod(LockService, 'Unlock');
const CAMPAIGN = grpcMethod(ElectionService, 'Campaign');
const PROCLAIM = grpcMethod(ElectionService, 'Proclaim');
const LEADER = grpcMethod(ElectionService, 'Leader');
const OBSERVE = grpcMethod(ElectionService, 'Observe');
const RESIGN = grpcMethod(ElectionService, 'Resign');
const GRANT = grpcMethod(LeaseService, 'LeaseGrant');

describe('locks and elections, one member, beside real etcd', () => {
  const servers = besideEtcd();

  /** Runs the same scenario on both servers at once and compares the transcripts. */
  async function sameOnBoth(scenario: (s: ServerProcess) => Promise<string>): Promise<string> {
    const [want, got] = await Promise.all([scenario(servers.etcd), scenario(servers.tsetcd)]);
    assert.equal(normalizeIds(got), normalizeIds(want));
    return got;
  }

  test('etcdctl lock: exec mode, the lock key and revision in the environment, hold until ^C', async () => {
    await sameOnBoth(async (s) => {
      const out: string[] = [];
      for (const args of [
        ['lock', 'mylock', '--', 'echo', 'hi'],
        ['lock', 'mylock', '--', 'sh', '-c', 'echo $ETCD_LOCK_KEY $ETCD_LOCK_REV'],
        ['lock', 'mylock', '--', 'false'],
        ['get', 'mylock', '--prefix'],
      ]) {
        const r = await etcdctl(s.endpoint, args);
        out.push(`$ ${args.join(' ')}\n${r.code}\n${r.stdout}${r.stderr.replace(/\{"level":"warn".*\n/g, '')}`);
      }
      // Without a command: prints the key and value it holds, then unlocks on ^C.
      const holder = new Ctl(s.endpoint, ['lock', 'held']);
      await holder.waitOutput('held/', 'lock held');
      const code = await holder.interrupt();
      const left = await etcdctl(s.endpoint, ['get', 'held', '--prefix', '--keys-only']);
      out.push(`holder: ${code}\n${holder.out}keys left: ${JSON.stringify(left.stdout)}`);
      return out.join('');
    });
  });

  test('etcdctl lock: a second holder acquires only once the first releases', async () => {
    await sameOnBoth(async (s) => {
      const file = path.join(tempDir('lock-order'), 'order');
      fs.writeFileSync(file, '');
      const first = new Ctl(s.endpoint, ['lock', 'order', '--', 'sh', '-c', `echo first-start >> ${file}; sleep 2; echo first-end >> ${file}`]);
      await waitFor(async () => fs.readFileSync(file, 'utf8').includes('first-start'), 15000, 'first holder');
      const second = new Ctl(s.endpoint, ['lock', 'order', '--', 'sh', '-c', `echo second >> ${file}`]);
      const codes = await Promise.all([first.exited, second.exited]);
      return `${codes.join(',')}\n${fs.readFileSync(file, 'utf8')}`;
    });
  });

  test('etcdctl elect: campaigners and an observer; ^C on the leader hands over to the next', async () => {
    const got = await sameOnBoth(async (s) => {
      const observer = new Ctl(s.endpoint, ['elect', '-l', 'myelection']);
      const first = new Ctl(s.endpoint, ['elect', 'myelection', 'proposal-1']);
      await first.waitOutput('proposal-1', 'first campaigner leads');
      await observer.waitOutput('proposal-1', 'observer sees the first leader');
      const second = new Ctl(s.endpoint, ['elect', 'myelection', 'proposal-2']);
      await sleep(1000);
      const secondBefore = second.out;
      const firstCode = await first.interrupt();
      await second.waitOutput('proposal-2', 'second campaigner leads');
      await observer.waitOutput('proposal-2', 'observer sees the second leader');
      const secondCode = await second.interrupt();
      const observerCode = await observer.interrupt();
      return [
        `first (${firstCode}):\n${first.out}`,
        `second before the first resigned: ${JSON.stringify(secondBefore)}`,
        `second (${secondCode}):\n${second.out}`,
        `observer (${observerCode}):\n${observer.out}`,
      ].join('\n');
    });
    assert.match(got, /observer \(0\):\nmyelection\/\S+\nproposal-1\nmyelection\/\S+\nproposal-2\n$/);
  });

  test('v3lock and v3election services: answers and errors (codes, messages) as etcd gives them', async () => {
    await sameOnBoth(async (s) => {
      const r = await Recipes.connect(s);
      const out: string[] = [];
      const log = (label: string, v: unknown) => out.push(`${label}: ${show(v)}`);
      try {
        const lease = await r.grant(30);
        log('lock without a lease (a session lease is granted)', await r.call(LOCK, { name: b('l0'), lease: 0n }));
        log('lock with an unknown lease', await r.call(LOCK, { name: b('l1'), lease: 12345n }));
        log('lock', await r.call(LOCK, { name: b('l2'), lease }));
        log('lock again, same lease', await r.call(LOCK, { name: b('l2'), lease }));
        log('unlock', await r.call(UNLOCK, { key: b(`l2/${lease.toString(16)}`) }));
        log('unlock a missing key', await r.call(UNLOCK, { key: b('nope') }));
        log('unlock an empty key', await r.call(UNLOCK, { key: Buffer.alloc(0) }));
        log('leader of an empty election', await r.call(LEADER, { name: b('e1') }));
        log('campaign', await r.call(CAMPAIGN, { name: b('e1'), lease, value: b('v1') }));
        log('campaign again with another value', await r.call(CAMPAIGN, { name: b('e1'), lease, value: b('v2') }));
        log('leader', await r.call(LEADER, { name: b('e1') }));
        log('campaign without a lease', await r.call(CAMPAIGN, { name: b('e0'), lease: 0n, value: b('x') }));
        log('campaign with an unknown lease', await r.call(CAMPAIGN, { name: b('e9'), lease: 777n, value: b('x') }));
        log('proclaim without a leader', await r.call(PROCLAIM, { value: b('x') }));
        log('resign without a leader', await r.call(RESIGN, {}));
        const leader = { name: b('e1'), key: b(`e1/${lease.toString(16)}`), lease };
        log('proclaim, wrong rev', await r.call(PROCLAIM, { leader: { ...leader, rev: 1 }, value: b('x') }));
        log('proclaim, wrong rev, unknown lease', await r.call(PROCLAIM, { leader: { ...leader, rev: 1, lease: 999n }, value: b('x') }));
        log('resign, wrong rev', await r.call(RESIGN, { leader: { ...leader, rev: 1 } }));
        const campaigned = await r.call(CAMPAIGN, { name: b('e1'), lease, value: b('v2') });
        const rev = 'ok' in campaigned ? campaigned.ok.leader!.rev : 0;
        log('proclaim', await r.call(PROCLAIM, { leader: { ...leader, rev }, value: b('v3') }));
        log('leader', await r.call(LEADER, { name: b('e1') }));
        log('resign', await r.call(RESIGN, { leader: { ...leader, rev } }));
        log('leader after resigning', await r.call(LEADER, { name: b('e1') }));
        log('proclaim after resigning', await r.call(PROCLAIM, { leader: { ...leader, rev }, value: b('v4') }));
      } finally {
        r.close();
      }
      return out.join('\n');
    });
  });

  test('Lock waits for the holder; a cancelled Lock stops waiting and takes its key away', async () => {
    await sameOnBoth(async (s) => {
      const r = await Recipes.connect(s);
      const out: string[] = [];
      try {
        const [a, bl, c] = [await r.grant(30), await r.grant(30), await r.grant(30)];
        const held = await r.call(LOCK, { name: b('w'), lease: a });
        out.push(`a: ${show(held)}`);
        const waiting = await r.open(LOCK, { name: b('w'), lease: bl });
        const cancelled = await r.open(LOCK, { name: b('w'), lease: c });
        await sleep(500);
        out.push(`while a holds: b ${waiting.messages.length} ${waiting.status()}, c ${cancelled.messages.length} ${cancelled.status()}`);
        cancelled.cancel();
        await sleep(300);
        const keys = await etcdctl(s.endpoint, ['get', 'w', '--prefix', '--keys-only']);
        out.push(`after c cancelled: ${keys.stdout.trim().split(/\n+/).join(' ')}`);
        out.push(`unlock a: ${show(await r.call(UNLOCK, { key: b(`w/${a.toString(16)}`) }))}`);
        await waitFor(async () => waiting.status() !== undefined, 10000, 'b to acquire');
        out.push(`b: ${waiting.status()} ${show(waiting.messages)}`);
      } finally {
        r.close();
      }
      return out.join('\n');
    });
  });

  test('Campaign waits for the leader; Observe streams each leader and each proclaimed value', async () => {
    await sameOnBoth(async (s) => {
      const r = await Recipes.connect(s);
      const out: string[] = [];
      try {
        const observer = await r.open(OBSERVE, { name: b('obs') });
        await sleep(300);
        out.push(`observe before any leader: ${observer.messages.length} ${observer.status()}`);
        const [a, bl] = [await r.grant(30), await r.grant(30)];
        const first = await r.call(CAMPAIGN, { name: b('obs'), lease: a, value: b('a1') });
        out.push(`a: ${show(first)}`);
        const second = await r.open(CAMPAIGN, { name: b('obs'), lease: bl, value: b('b1') });
        await sleep(300);
        out.push(`b while a leads: ${second.messages.length} ${second.status()}`);
        const leaderA = 'ok' in first ? first.ok.leader! : undefined;
        out.push(`proclaim a2: ${show(await r.call(PROCLAIM, { leader: leaderA, value: b('a2') }))}`);
        out.push(`resign a: ${show(await r.call(RESIGN, { leader: leaderA }))}`);
        await waitFor(async () => second.status() !== undefined, 10000, 'b to lead');
        out.push(`b: ${second.status()} ${show(second.messages)}`);
        await waitFor(async () => observer.messages.length >= 3, 10000, 'three observations');
        await sleep(200);
        observer.cancel();
        out.push(`observed: ${show(observer.messages.map((m) => ({ revision: m.header?.revision, kv: m.kv })))}`);
      } finally {
        r.close();
      }
      return out.join('\n');
    });
  });

  test('etcd3 client lock: mutual exclusion between two clients', async () => {
    await sameOnBoth(async (s) => {
      const one = new Etcd3({ hosts: s.clientUrl });
      const two = new Etcd3({ hosts: s.clientUrl });
      const out: string[] = [];
      try {
        const result = await one.lock('resource').do(async () => {
          out.push('one holds the lock');
          try {
            await two.lock('resource').acquire();
            out.push('two acquired while one held it');
          } catch (e) {
            out.push(`two: ${e instanceof EtcdLockFailedError ? 'EtcdLockFailedError' : String(e)}`);
          }
          return 'done';
        });
        out.push(`one: ${result}`);
        const lock = await two.lock('resource').acquire();
        out.push('two acquires once one released');
        await lock.release();
      } finally {
        one.close();
        two.close();
      }
      return out.join('\n');
    });
  });
});

test('3 members: followers serve Lock, Campaign and Observe; writes go through Raft', async () => {
  const members = await startCluster('tsetcd', 3);
  const clients: Recipes[] = [];
  try {
    const status = await clusterStatus(members.map((m) => m.endpoint).join(','));
    const leaderRow = status.find((s) => s.memberId === s.leader)!;
    const followers = members.filter((m) => m.endpoint !== leaderRow.endpoint);
    const leader = members.find((m) => m.endpoint === leaderRow.endpoint)!;
    const [f1, f2, l] = await Promise.all([Recipes.connect(followers[0]!), Recipes.connect(followers[1]!), Recipes.connect(leader)]);
    clients.push(f1, f2, l);

    const [a, bl] = [await f1.grant(30), await f2.grant(30)];
    const held = await f1.call(LOCK, { name: b('fl'), lease: a });
    assert.ok('ok' in held, show(held));
    const waiting = await f2.open(LOCK, { name: b('fl'), lease: bl });
    await sleep(500);
    assert.equal(waiting.status(), undefined, 'the second Lock waits');
    await l.call(UNLOCK, { key: held.ok.key });
    await waitFor(async () => waiting.status() !== undefined, 10000, 'the second Lock');
    assert.equal(waiting.status(), 'OK');
    assert.equal(waiting.messages[0]!.key.toString(), `fl/${bl.toString(16)}`);

    const observer = await f2.open(OBSERVE, { name: b('fe') });
    const campaigned = await f1.call(CAMPAIGN, { name: b('fe'), lease: a, value: b('from-a-follower') });
    assert.ok('ok' in campaigned, show(campaigned));
    const seen = await l.call(LEADER, { name: b('fe') });
    assert.ok('ok' in seen && seen.ok.kv?.value.toString() === 'from-a-follower', show(seen));
    await waitFor(async () => observer.messages.length === 1, 10000, 'the observation on the other follower');
    assert.equal(observer.messages[0]!.kv?.value.toString(), 'from-a-follower');
    observer.cancel();

    // etcdctl lock through a follower, while the other follower's lease holds the lock.
    const ctl = new Ctl(followers[0]!.endpoint, ['lock', 'fl', '--', 'echo', 'got it']);
    await sleep(1000);
    assert.equal(ctl.out, '', 'etcdctl waits while another holds the lock');
    await l.call(UNLOCK, { key: waiting.messages[0]!.key });
    assert.equal(await ctl.exited, 0);
    assert.equal(ctl.out, 'got it\n');
    const left = await etcdctl(leader.endpoint, ['get', 'fl', '--prefix', '--keys-only']);
    assert.equal(left.stdout, '', 'every holder released');
  } finally {
    for (const c of clients) c.close();
    await Promise.all(members.map((m) => m.destroy()));
  }
});
