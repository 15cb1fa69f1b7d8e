// A member joining an existing cluster (--initial-cluster-state=existing) asks the members it was
// told about for the cluster's id and membership, over a one-shot membership link.
import net from 'node:net';
import { FrameReader, FrameType } from './frame.js';
import { parsePeerUrl } from './peer-url.js';
import { decodeFrame, encodeHello, LinkKind, PROTOCOL_VERSION, type MembershipInfo } from './wire.js';

/** A membership answer is small; a peer sending more is not answering this question. */
const MAX_MEMBERS_FRAME_BYTES = 1024 * 1024;

/** Asks each URL in turn; resolves with the first answer, rejects when none answers. */
export async function fetchMembership(urls: readonly string[], timeoutMs: number): Promise<MembershipInfo> {
  const failures: string[] = [];
  for (const url of urls) {
    try {
      return await askOne(url, timeoutMs);
    } catch (e) {
      failures.push(`${url}: ${(e as Error).message}`);
    }
  }
  throw new Error(`could not get the cluster membership from any peer (${failures.join('; ')})`);
}

function askOne(url: string, timeoutMs: number): Promise<MembershipInfo> {
  const addr = parsePeerUrl(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: addr.host, port: addr.port });
    const fail = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    const reader = new FrameReader(
      {
        onFrame: (type, payload) => {
          reader.stop();
          socket.destroy();
          try {
            const frame = decodeFrame(type, payload);
            if (frame.type === FrameType.Members) resolve(frame.info);
            else reject(new Error(`answered with frame type ${type}`));
          } catch (e) {
            reject(e as Error);
          }
        },
      },
      MAX_MEMBERS_FRAME_BYTES,
    );
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('error', fail);
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (e) {
        fail(e as Error);
      }
    });
    socket.on('connect', () => {
      socket.write(encodeHello({ version: PROTOCOL_VERSION, clusterId: 0n, from: 0n, to: 0n, link: LinkKind.Membership }));
    });
  });
}
