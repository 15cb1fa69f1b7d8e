// grpc_server_started_total and grpc_server_handled_total, as go-grpc-prometheus counts them for
// etcd: every call to a registered method, by type, service, method and (when it ends) status
// code. As etcd does, every series starts at zero for every registered method. Calls are counted
// in plain arrays (the hot path is an array increment) and handed to prom-client at scrape time.
import { Counter, type Registry } from 'prom-client';
import type { CallObserver, RegisteredMethodInfo } from '../api/grpc/server.js';
import type { MethodKind } from '../api/grpc/service.js';

const GRPC_TYPE: Readonly<Record<MethodKind, string>> = { unary: 'unary', serverStream: 'server_stream', bidi: 'bidi_stream' };

/** grpc-go's code names, by code. */
const CODE_NAMES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable',
  'DataLoss', 'Unauthenticated',
] as const;

type Labels = Record<'grpc_type' | 'grpc_service' | 'grpc_method', string>;

interface MethodCounts {
  readonly labels: Labels;
  started: number;
  startedReported: number;
  readonly handled: number[];
  readonly handledReported: number[];
}

export class GrpcMetrics implements CallObserver {
  private readonly byPath = new Map<string, MethodCounts>();

  constructor(registry: Registry) {
    const counts = this.byPath;
    new Counter({
      name: 'grpc_server_started_total',
      help: 'Total number of RPCs started on the server.',
      labelNames: ['grpc_type', 'grpc_service', 'grpc_method'],
      registers: [registry],
      collect() {
        for (const m of counts.values()) {
          this.inc(m.labels, m.started - m.startedReported);
          m.startedReported = m.started;
        }
      },
    });
    new Counter({
      name: 'grpc_server_handled_total',
      help: 'Total number of RPCs completed on the server, regardless of success or failure.',
      labelNames: ['grpc_type', 'grpc_service', 'grpc_method', 'grpc_code'],
      registers: [registry],
      collect() {
        for (const m of counts.values()) {
          for (let code = 0; code < CODE_NAMES.length; code++) {
            // etcd prints labels in name order: grpc_code first.
            this.inc({ grpc_code: CODE_NAMES[code]!, ...m.labels }, m.handled[code]! - m.handledReported[code]!);
            m.handledReported[code] = m.handled[code]!;
          }
        }
      },
    });
  }

  /** Declares the methods a server serves (their series start at zero). */
  register(methods: readonly RegisteredMethodInfo[]): void {
    for (const m of methods) {
      if (this.byPath.has(m.path)) continue;
      this.byPath.set(m.path, {
        labels: { grpc_method: m.name, grpc_service: m.service, grpc_type: GRPC_TYPE[m.kind] },
        started: 0,
        startedReported: 0,
        handled: new Array<number>(CODE_NAMES.length).fill(0),
        handledReported: new Array<number>(CODE_NAMES.length).fill(0),
      });
    }
  }

  started(path: string): void {
    const m = this.byPath.get(path);
    if (m !== undefined) m.started++;
  }

  handled(path: string, code: number): void {
    const m = this.byPath.get(path);
    if (m !== undefined && code >= 0 && code < CODE_NAMES.length) m.handled[code]!++;
  }
}
