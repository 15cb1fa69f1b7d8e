// etcd3 clients for measuring, not for serving an application: one endpoint each, no retries and no
// circuit breaker. etcd3's defaults retry failed calls and stop calling a host for 5 s after three
// connection errors, which would hide (or stretch) exactly the outages the benchmark times.
import { Etcd3, type IOptions } from 'etcd3';

type Policy = ReturnType<NonNullable<NonNullable<IOptions['faultHandling']>['host']>>;

/** Runs the call once and passes its result or error through. etcd3 only ever calls `execute`. */
const passThrough = {
  execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal })),
} as unknown as Policy;

export interface DirectClientOptions {
  /** Open a TCP connection of its own instead of sharing grpc-js's process-wide one per address. */
  ownConnection?: boolean;
}

export function directClient(endpoint: string, options: DirectClientOptions = {}): Etcd3 {
  return new Etcd3({
    hosts: endpoint,
    faultHandling: { host: () => passThrough, global: passThrough },
    grpcOptions: options.ownConnection === true ? { 'grpc.use_local_subchannel_pool': 1 } : {},
  });
}
