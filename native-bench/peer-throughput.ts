// Throughput of the peer transport between two members on loopback: MsgApp-like messages with
// 10 entries of 256 bytes, sent as fast as the link takes them (the sender keeps its queue below
// half the bound, so nothing is dropped), counted by the receiver.
//
//   node --import tsx native-bench/peer-throughput.ts [--mode=fork|inline|both] [--seconds=10] [--warmup=2] [--batch=256]
//
// fork: the receiver is a child process (two event loops, as between two members);
// inline: both transports share one event loop (the CPU cost of both ends, added up).
import { fork } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { PeerTransport } from '../src/main/peer/transport.js';
import { encodeMessages } from '../src/main/peer/wire.js';
import { EntryType, MessageType, type Entry, type Message } from '../src/main/raft/types.js';

const SENDER = 0x8000_0000_0000_0001n;
const RECEIVER = 0x2n;
const ENTRIES = 10;
const ENTRY_BYTES = 256;
const MAX_QUEUED = 4096;

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k!, v ?? 'true'];
  }),
);
const log = pino({ level: 'error' });
/** Snapshot dirs (unused here, but required); removed on exit. */
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'peer-bench-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Counts {
  messages: number;
  entryBytes: number;
  /** CPU seconds (user + system) of the process so far. */
  cpu: number;
}

function transport(selfId: bigint, port: number, peerId: bigint, peerPort: number, onMessage: (m: Message) => void): PeerTransport {
  return new PeerTransport({
    selfId,
    clusterId: 1n,
    listenUrls: [`http://127.0.0.1:${port}`],
    peers: new Map([[peerId, [`http://127.0.0.1:${peerPort}`]]]),
    onMessage,
    onSnapshot: () => {},
    snapshotDir: path.join(scratch, selfId.toString(16)),
    log,
    maxQueuedMessages: MAX_QUEUED,
  });
}

const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** The receiving member: counts what arrives. */
function receiver(port: number, senderPort: number): { t: PeerTransport; counts: () => Counts } {
  let messages = 0;
  let entryBytes = 0;
  const t = transport(RECEIVER, port, SENDER, senderPort, (m) => {
    messages++;
    for (const e of m.entries) entryBytes += e.data.length;
  });
  return { t, counts: () => ({ messages, entryBytes, cpu: cpuSeconds() }) };
}

function entries(): Entry[] {
  return Array.from({ length: ENTRIES }, (_, i) => ({ term: 5, index: i + 1, type: EntryType.Normal, data: Buffer.alloc(ENTRY_BYTES, i) }));
}

/** Keeps the sender's queue between a quarter and half of the bound, every turn. */
/** A MsgApp from SENDER to RECEIVER carrying ENTRIES entries of ENTRY_BYTES. */
function appMessage(seq: number): Message {
  return { type: MessageType.App, from: SENDER, to: RECEIVER, term: 5, index: seq, logTerm: 5, entries: entries(), commit: seq, reject: false, rejectHint: 0 };
}

function pump(t: PeerTransport, batch: number): { stop: () => void } {
  const template = appMessage(0);
  let seq = 0;
  let running = true;
  const turn = () => {
    if (!running) return;
    if (t.stats().queued < MAX_QUEUED / 4) {
      const out = new Array<Message>(batch);
      for (let i = 0; i < batch; i++) out[i] = { ...template, index: ++seq, commit: seq };
      t.send(out);
    }
    setImmediate(turn);
  };
  setImmediate(turn);
  return { stop: () => (running = false) };
}

function report(label: string, seconds: number, from: Counts, to: Counts, senderCpu: number, rtts: number[], wireBytesPerMessage: number): void {
  const messages = to.messages - from.messages;
  const perSecond = messages / seconds;
  const ms = (s: number) => (s * 1000).toFixed(2);
  console.log(
    [
      `${label}:`,
      `${Math.round(perSecond).toLocaleString('en')} msgs/s`,
      `${Math.round(perSecond * ENTRIES).toLocaleString('en')} entries/s`,
      `${((to.entryBytes - from.entryBytes) / seconds / 1e6).toFixed(1)} MB/s entry data`,
      `${((perSecond * wireBytesPerMessage) / 1e6).toFixed(1)} MB/s on the wire`,
      to.cpu !== from.cpu
        ? `CPU sender ${((senderCpu / seconds) * 100).toFixed(0)}%, receiver ${(((to.cpu - from.cpu) / seconds) * 100).toFixed(0)}%`
        : `CPU both ends ${((senderCpu / seconds) * 100).toFixed(0)}%`,
      `ping RTT under load ${rtts.length > 0 ? `${ms(Math.min(...rtts))}–${ms(Math.max(...rtts))} ms` : 'n/a'}`,
    ].join('  '),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function run(mode: 'fork' | 'inline'): Promise<void> {
  const seconds = Number(args.seconds ?? 10);
  const warmup = Number(args.warmup ?? 2);
  const batch = Number(args.batch ?? 256);
  const [senderPort, receiverPort] = [await freePort(), await freePort()];

  let counts: () => Promise<Counts>;
  let stopReceiver: () => Promise<void>;
  if (mode === 'inline') {
    const r = receiver(receiverPort, senderPort);
    await r.t.start();
    counts = async () => ({ ...r.counts(), cpu: 0 });
    stopReceiver = () => r.t.close();
  } else {
    const child = fork(fileURLToPath(import.meta.url), ['--receiver', String(receiverPort), String(senderPort)], { execArgv: ['--import', 'tsx'] });
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    counts = () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve(m as Counts));
        child.send('count');
      });
    stopReceiver = async () => {
      child.send('stop');
      await new Promise((resolve) => child.once('exit', resolve));
    };
  }

  const sender = transport(SENDER, senderPort, RECEIVER, receiverPort, () => {});
  await sender.start();
  const p = pump(sender, batch);
  await sleep(warmup * 1000);
  const from = await counts();
  const cpuFrom = cpuSeconds();
  const started = performance.now();
  await sleep(seconds * 1000);
  const to = await counts();
  const elapsed = (performance.now() - started) / 1000;
  const senderCpu = cpuSeconds() - cpuFrom;
  p.stop();
  const rtts = sender.rtt(RECEIVER);
  const stats = sender.stats();
  await sender.close();
  await stopReceiver();

  const sample = Array.from({ length: 256 }, (_, i) => appMessage(1_000_000 + i));
  const wireBytesPerMessage = encodeMessages(sample, 0, sample.length).length / sample.length;
  report(mode === 'fork' ? 'two processes' : 'one process', elapsed, from, to, senderCpu, rtts, wireBytesPerMessage);
  console.log(`  sender stats: sent ${stats.sent}, dropped ${stats.dropped}, wire bytes per message ${wireBytesPerMessage.toFixed(0)}`);
}

if (process.argv[2] === '--receiver') {
  const r = receiver(Number(process.argv[3]), Number(process.argv[4]));
  await r.t.start();
  process.on('message', async (m) => {
    if (m === 'count') process.send!(r.counts());
    else {
      await r.t.close();
      process.disconnect();
    }
  });
  process.send!('ready');
} else {
  const mode = args.mode ?? 'both';
  if (mode === 'both' || mode === 'inline') await run('inline');
  if (mode === 'both' || mode === 'fork') await run('fork');
}
