// Watch against bin/tsetcd and real etcd side by side: the real `etcdctl watch` (live, --prefix,
// ranges, --prev-kv, --rev, -w json, interactive with progress, compacted and refused watches) and
// the etcd3 npm client (events, prev_kv, start revision, resume after the server restarts). The
// transcripts must be equal, ids and terms aside.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Etcd3, type IKeyValue, type Watcher } from 'etcd3';
import { etcdctl } from '../helpers/etcdctl.js';
import { normalize } from '../helpers/normalize.js';
import { startServer, type ServerKind, type ServerProcess } from '../helpers/processes.js';
import { EtcdctlWatch, eventCount, type WatchTranscript } from '../watch/etcdctl-watch.js';

let servers: Record<ServerKind, ServerProcess>;

before(async () => {
  const [etcd, tsetcd] = await Promise.all([startServer('etcd'), startServer('tsetcd')]);
  servers = { etcd, tsetcd };
});

after(async () => {
  await Promise.all(Object.values(servers ?? {}).map((s) => s.destroy()));
});

async function ctl(s: ServerProcess, args: string[], input?: string): Promise<void> {
  const r = await etcdctl(s.endpoint, args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `etcdctl ${args.join(' ')}: ${r.stderr}`);
}

/** Runs `scenario` on both servers; its transcripts must be equal once normalized. */
async function same(scenario: (s: ServerProcess) => Promise<Record<string, WatchTranscript>>): Promise<Record<string, WatchTranscript>> {
  const want = await scenario(servers.etcd);
  const got = await scenario(servers.tsetcd);
  const norm = (t: Record<string, WatchTranscript>) =>
    Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { stdout: normalize(v.stdout), stderr: normalize(v.stderr), code: v.code }]));
  assert.deepEqual(norm(got), norm(want));
  return got;
}

describe('etcdctl watch', () => {
  test('live watchers (prefix, key, range, prev-kv, json, interactive with progress) print what they print with etcd', async () => {
    const t = await same(async (s) => {
      const p = 'live/';
      const watchers = {
        prefix: new EtcdctlWatch(s.endpoint, ['--prefix', p]),
        key: new EtcdctlWatch(s.endpoint, [`${p}k1`, '--prev-kv']),
        range: new EtcdctlWatch(s.endpoint, [`${p}k1`, `${p}k3`]),
        json: new EtcdctlWatch(s.endpoint, ['--prefix', p, '-w', 'json', '--prev-kv']),
        interactive: new EtcdctlWatch(s.endpoint, ['-i']),
      };
      watchers.interactive.send(`watch --prefix ${p}`);
      await new Promise((r) => setTimeout(r, 1500)); // every watcher connected and created
      await ctl(s, ['put', `${p}k1`, 'v1']);
      await ctl(s, ['put', `${p}k2`, 'v2']);
      await ctl(s, ['put', 'elsewhere', 'x']);
      await ctl(s, ['put', `${p}k1`, 'v1b']);
      await ctl(s, ['del', `${p}k1`]);
      await ctl(s, ['txn'], `\nput ${p}k3 t3\nput ${p}k4 t4\ndel ${p}k2\n\n\n`);
      await ctl(s, ['put', `${p}k1`, 'back']);
      await ctl(s, ['del', '--prefix', p]);
      await watchers.prefix.until((out) => eventCount(out) === 11);
      await watchers.json.until((out) => out.split('\n').filter(Boolean).length === 7);
      await watchers.interactive.until((out) => eventCount(out) === 11);
      watchers.interactive.send('progress');
      await watchers.interactive.until((out) => out.includes('progress notify:'));
      await watchers.key.until((out) => eventCount(out) === 5);
      await watchers.range.until((out) => eventCount(out) === 7);
      const out: Record<string, WatchTranscript> = {};
      for (const [name, w] of Object.entries(watchers)) out[name] = await w.stop();
      return out;
    });
    assert.match(t.interactive!.stdout, /progress notify: \d+/);
  });

  test('--rev: the history from a revision, then live; a compacted revision cancels the watch; a bad range is refused', async () => {
    await same(async (s) => {
      const p = 'hist/';
      const { stdout } = await etcdctl(s.endpoint, ['put', `${p}a`, '1', '-w', 'json']);
      const first = Number(/"revision":(\d+)/.exec(stdout)![1]);
      await ctl(s, ['put', `${p}b`, '2']);
      await ctl(s, ['del', `${p}a`]);
      await ctl(s, ['txn'], `\nput ${p}c 3\nput ${p}d 4\n\n\n`);
      const fromFirst = new EtcdctlWatch(s.endpoint, ['--prefix', p, `--rev=${first}`, '--prev-kv']);
      const fromThird = new EtcdctlWatch(s.endpoint, ['--prefix', p, `--rev=${first + 2}`, '-w', 'json']);
      const future = new EtcdctlWatch(s.endpoint, ['--prefix', p, `--rev=${first + 6}`]);
      // The history comes in one response (etcd's unsynced watcher batch): one JSON line.
      await fromFirst.until((out) => eventCount(out) === 5);
      await fromThird.until((out) => out.split('\n').filter(Boolean).length === 1);
      await ctl(s, ['put', `${p}e`, '5']); // first + 4
      await ctl(s, ['put', `${p}f`, '6']); // first + 5
      await ctl(s, ['put', `${p}g`, '7']); // first + 6: the first the future watcher sees
      await fromFirst.until((out) => eventCount(out) === 8);
      await fromThird.until((out) => out.split('\n').filter(Boolean).length === 4);
      await future.until((out) => eventCount(out) === 1);
      await ctl(s, ['compaction', String(first + 3)]);
      const compacted = new EtcdctlWatch(s.endpoint, ['--prefix', p, `--rev=${first + 1}`]);
      const atCompacted = new EtcdctlWatch(s.endpoint, ['--prefix', p, `--rev=${first + 3}`, '-w', 'json']);
      const emptyRange = new EtcdctlWatch(s.endpoint, [`${p}z`, `${p}a`]);
      await atCompacted.until((out) => out.split('\n').filter(Boolean).length === 1);
      return {
        fromFirst: await fromFirst.stop(),
        fromThird: await fromThird.stop(),
        future: await future.stop(),
        compacted: await compacted.exit(),
        atCompacted: await atCompacted.stop(),
        emptyRange: await emptyRange.exit(),
      };
    });
  });
});

describe('the etcd3 client', () => {
  interface Seen {
    type: string;
    key: string;
    value: string;
    mod: string;
    prev?: string;
  }

  /** Watchers to cancel before their client closes (an open one keeps the client retrying). */
  const open: Watcher[] = [];

  /** Collects a watcher's events until `n` have come. */
  function collect(w: Watcher): { events: Seen[]; until(n: number): Promise<void> } {
    open.push(w);
    const events: Seen[] = [];
    const on = (type: string) => (kv: IKeyValue, prev?: IKeyValue) =>
      events.push({ type, key: kv.key.toString(), value: kv.value.toString(), mod: kv.mod_revision, ...(prev ? { prev: prev.value.toString() } : {}) });
    w.on('put', on('put'));
    w.on('delete', on('delete'));
    return {
      events,
      async until(n: number) {
        const deadline = Date.now() + 15_000;
        while (events.length < n) {
          if (Date.now() > deadline) throw new Error(`timed out with ${JSON.stringify(events)}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      },
    };
  }

  test('events, prev_kv and start revisions as with etcd', async () => {
    const run = async (s: ServerProcess) => {
      const client = new Etcd3({ hosts: s.clientUrl });
      try {
        const p = 'e3/';
        const base = Number((await client.put(`${p}seed`).value('0').exec()).header.revision);
        const all = collect(await client.watch().prefix(p).create());
        const prev = collect(await client.watch().key(`${p}k`).withPreviousKV().create());
        await client.put(`${p}k`).value('a').exec();
        await client.put(`${p}k`).value('b').exec();
        await client.delete().key(`${p}k`).exec();
        await client.put(`${p}x`).value('c').exec();
        await all.until(4);
        await prev.until(3);
        const history = collect(await client.watch().prefix(p).startRevision(String(base)).create());
        await history.until(5);
        const strip = (e: Seen[]) => e.map((x) => ({ ...x, mod: String(Number(x.mod) - base) }));
        return { all: strip(all.events), prev: strip(prev.events), history: strip(history.events) };
      } finally {
        await Promise.all(open.splice(0).map((w) => w.cancel()));
        client.close();
      }
    };
    assert.deepEqual(await run(servers.tsetcd), await run(servers.etcd));
  });

  test('a watch resumes after the server restarts: nothing missed, nothing twice', async () => {
    const run = async (s: ServerProcess) => {
      const client = new Etcd3({ hosts: s.clientUrl });
      try {
        const p = 'resume/';
        const seen = collect(await client.watch().prefix(p).create());
        for (let i = 0; i < 5; i++) await client.put(`${p}${i}`).value(`v${i}`).exec();
        await seen.until(5);
        await s.stop();
        await s.start();
        for (let i = 5; i < 10; i++) await client.put(`${p}${i}`).value(`v${i}`).exec();
        await seen.until(10);
        await new Promise((r) => setTimeout(r, 300));
        return seen.events.map((e) => `${e.type} ${e.key}=${e.value}`);
      } finally {
        await Promise.all(open.splice(0).map((w) => w.cancel()));
        client.close();
      }
    };
    const want = Array.from({ length: 10 }, (_, i) => `put resume/${i}=v${i}`);
    assert.deepEqual(await run(servers.tsetcd), want);
    assert.deepEqual(await run(servers.etcd), want);
  });
});
