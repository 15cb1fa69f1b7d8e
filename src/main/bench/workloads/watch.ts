// watch and watch-latency: --watchers watchers on --watch-prefix, spread over --streams watch
// streams, while the clients put under that prefix. Each put carries its send time (epoch ms, a
// float64 in the value's first 8 bytes), so every delivered event yields a put-to-event latency,
// whichever thread put it. The histogram holds those; the puts are only counted.
//
// Every watcher sees every put, so once all threads are done the expected events are
// (puts acknowledged in all threads) × (this thread's watchers); drain waits for them.

import { performance } from 'node:perf_hooks';
import { prefixEnd } from '../../prefix-end.js';
import type { WatchedEvent, WatchStream } from '../transport.js';
import type { WorkloadFactory } from './workload.js';

/** How long events may trail the last put before the missing ones count as errors. */
const DRAIN_TIMEOUT_MS = 10_000;

export const watch: WorkloadFactory = (context) => {
  const { plan, connections, recorder, value } = context;
  const keys = context.keyGenerator(1);
  const prefix = Buffer.from(plan.options.keys.prefix);
  const streams: WatchStream[] = [];
  let delivered = 0;
  let expected = Infinity;
  let onDelivered: (() => void) | undefined;
  const stamp = Buffer.alloc(8);
  /** The send time the put wrote into the value, or undefined. */
  const sentAt = (v: Uint8Array | undefined): number | undefined => {
    if (v === undefined || v.length < 8) return undefined;
    for (let i = 0; i < 8; i++) stamp[i] = v[i]!;
    return stamp.readDoubleLE(0);
  };

  const listener = {
    onEvents(_watchId: number, events: readonly WatchedEvent[]): void {
      const now = performance.now();
      const nowEpoch = performance.timeOrigin + now;
      for (const event of events) {
        const sent = sentAt(event.kv?.value);
        if (sent !== undefined) recorder.sample(nowEpoch - sent, now);
      }
      delivered += events.length;
      if (delivered >= expected) onDelivered?.();
    },
    onError(error: Error): void {
      recorder.error(error, performance.now());
    },
  };

  return {
    measures: 'events',
    operationName: 'puts',

    async setup() {
      for (let s = 0; s < plan.streams; s++) streams.push(await connections[s % connections.length]!.openWatchStream(listener));
      const rangeEnd = prefixEnd(prefix);
      await Promise.all(Array.from({ length: plan.watchers }, (_, w) => streams[w % streams.length]!.watch(prefix, rangeEnd)));
    },

    operation(client, seq) {
      value.writeDoubleLE(performance.timeOrigin + performance.now(), 0);
      return connections[client % connections.length]!.put(keys.key(seq), value);
    },

    async drain(puts) {
      expected = puts * plan.watchers;
      recorder.count('events expected', expected);
      if (delivered < expected) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          onDelivered = resolve;
          timer = setTimeout(resolve, DRAIN_TIMEOUT_MS);
        });
        clearTimeout(timer);
      }
      recorder.count('events delivered', delivered);
      if (delivered < expected) {
        recorder.error(new Error(`watch: event not delivered within ${DRAIN_TIMEOUT_MS / 1000} s of the last put`), performance.now(), expected - delivered);
      }
    },

    async teardown() {
      for (const s of streams) s.close();
    },
  };
};
