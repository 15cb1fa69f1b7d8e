// etcdserverpb.Watch: one bidirectional stream of watch requests and responses per call, served by
// the WatchHub (main/watch/hub.ts). Most responses reach this call already encoded by a fan-out
// worker, so the method's response codec also takes protobuf bytes as they are.
import { Errors } from '../../errors.js';
import { NONE } from '../../raft/types.js';
import type { HubStream, WatchHub } from '../../watch/hub.js';
import { bidi, service, type BidiCall, type ServiceHandlers } from '../grpc/service.js';
import type { MessageCodec } from '../proto/codec.js';
import { decodeWatchResponse, encodeWatchResponse, WatchRequestCodec, type WatchRequest, type WatchResponse } from '../proto/watch.js';

/** etcd's metadata asking that the stream fail when the member has no leader (clientv3.WithRequireLeader). */
const REQUIRE_LEADER_KEY = 'hasleader';

/** WatchResponse, or the bytes of one already encoded (copied as they are). */
export const WatchResponseOrBytesCodec: MessageCodec<WatchResponse | Uint8Array> = {
  name: 'etcdserverpb.WatchResponse',
  encode(w, m) {
    if (m instanceof Uint8Array) {
      w.ensure(m.length);
      w.buf.set(m, w.pos);
      w.pos += m.length;
    } else {
      encodeWatchResponse(w, m);
    }
  },
  decode: decodeWatchResponse,
};

export const WatchStreamService = service('etcdserverpb.Watch', {
  Watch: bidi(WatchRequestCodec, WatchResponseOrBytesCodec),
});

/** etcd's maxNoLeaderCnt: election timeouts without a leader before require-leader streams are canceled. */
const MAX_NO_LEADER_CHECKS = 3;

/** The member, as far as Watch needs it. */
export interface WatchBackend {
  readonly watch: WatchHub;
  /** The leader's id; NONE (0n) when there is none. */
  readonly leader: bigint;
  readonly config: { readonly electionTimeoutMs: number };
}

/**
 * etcd's monitorLeader: streams that asked for a leader end with "no leader" once the member has
 * had none for MAX_NO_LEADER_CHECKS election timeouts in a row. Checks only while such streams exist.
 */
class LeaderMonitor {
  private readonly streams = new Set<HubStream>();
  private timer: NodeJS.Timeout | undefined;
  private checksWithoutLeader = 0;

  constructor(private readonly backend: WatchBackend) {}

  add(stream: HubStream): void {
    this.streams.add(stream);
    if (this.timer !== undefined) return;
    this.checksWithoutLeader = 0;
    this.timer = setInterval(() => this.check(), this.backend.config.electionTimeoutMs);
    this.timer.unref();
  }

  delete(stream: HubStream): void {
    this.streams.delete(stream);
    if (this.streams.size > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    this.checksWithoutLeader = this.backend.leader === NONE ? this.checksWithoutLeader + 1 : 0;
    if (this.checksWithoutLeader < MAX_NO_LEADER_CHECKS) return;
    for (const stream of [...this.streams]) stream.fail(Errors.noLeader);
  }
}

export function watchHandlers(backend: WatchBackend): ServiceHandlers<typeof WatchStreamService> {
  const monitor = new LeaderMonitor(backend);
  return {
    async Watch(call: BidiCall<WatchRequest, WatchResponse | Uint8Array>) {
      const requireLeader = call.metadata[REQUIRE_LEADER_KEY] === 'true';
      if (requireLeader && backend.leader === NONE) throw Errors.noLeader;
      const stream = backend.watch.openStream({ write: (m) => call.write(m), writeMessages: (m, done) => call.writeMessages(m, done), drained: () => call.drained() });
      if (requireLeader) monitor.add(stream);
      try {
        const requests = call[Symbol.asyncIterator]();
        for (;;) {
          const next = await stream.guard(requests.next());
          if (next.done === true) break;
          stream.request(next.value);
        }
        // As etcd: a client that half-closes still gets its events, until the call ends.
        await stream.guard(ended(call));
      } catch (e) {
        if (!call.cancelled) throw e;
      } finally {
        monitor.delete(stream);
        stream.close();
      }
    },
  };
}

function ended(call: BidiCall<WatchRequest, WatchResponse | Uint8Array>): Promise<void> {
  if (call.cancelled) return Promise.resolve();
  return new Promise((resolve) => call.signal.addEventListener('abort', () => resolve(), { once: true }));
}
