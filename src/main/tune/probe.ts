// Round trips to a peer port measured from this host: one short connection per sample, timed
// from sending a request to the first byte of the answer (the TCP connect is left out: through
// a proxy or a load balancer it completes locally). The request is tsetcd's membership Hello,
// which a tsetcd member answers with its membership; an etcd member answers it with
// "400 Bad Request" just as quickly, so one probe serves both.
import net from 'node:net';
import { parsePeerUrl } from '../peer/peer-url.js';
import { encodeHello, LinkKind, PROTOCOL_VERSION } from '../peer/wire.js';

const REQUEST = encodeHello({ version: PROTOCOL_VERSION, clusterId: 0n, from: 0n, to: 0n, link: LinkKind.Membership });

/** One round trip in seconds; rejects if the peer cannot be reached or says nothing in time. */
export function probeOnce(url: string, timeoutMs: number): Promise<number> {
  const addr = parsePeerUrl(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: addr.host, port: addr.port, noDelay: true });
    let sentAt = 0;
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`${url}: no answer within ${timeoutMs} ms`));
    });
    socket.once('connect', () => {
      sentAt = performance.now();
      socket.write(REQUEST);
    });
    socket.once('data', () => {
      const seconds = (performance.now() - sentAt) / 1000;
      socket.destroy();
      resolve(seconds);
    });
    socket.once('error', (e) => {
      socket.destroy();
      reject(new Error(`${url}: ${e.message}`));
    });
    socket.once('end', () => reject(new Error(`${url}: closed without answering`)));
  });
}

/** `samples` round trips, `intervalMs` apart; failed samples are left out (an empty list: unreachable). */
export async function probeRtts(url: string, samples: number, intervalMs: number, timeoutMs: number): Promise<{ rtts: number[]; errors: string[] }> {
  const rtts: number[] = [];
  const errors: string[] = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, intervalMs));
    try {
      rtts.push(await probeOnce(url, timeoutMs));
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  return { rtts, errors };
}
