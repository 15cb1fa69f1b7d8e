// The request/response workloads: each operation is one KV call on the client's connection, and
// its latency is what the histogram holds. Nothing to set up or drain.

import type { Workload, WorkloadContext, WorkloadFactory } from './workload.js';

function requestWorkload(operationName: string, operation: Workload['operation']): Workload {
  return {
    measures: 'operations',
    operationName,
    setup: async () => {},
    operation,
    drain: async () => {},
    teardown: async () => {},
  };
}

function connectionOf(context: WorkloadContext, client: number) {
  return context.connections[client % context.connections.length]!;
}

export const put: WorkloadFactory = (context) => {
  const keys = context.keyGenerator(1);
  return requestWorkload('puts', (client, seq) => connectionOf(context, client).put(keys.key(seq), context.value));
};

export const range: WorkloadFactory = (context) => {
  const keys = context.keyGenerator(1);
  const serializable = context.plan.options.consistency === 's';
  return requestWorkload('ranges', (client, seq) => connectionOf(context, client).range(keys.key(seq), serializable));
};

export const txnPut: WorkloadFactory = (context) => {
  const keys = context.keyGenerator(context.plan.options.txnOps);
  return requestWorkload('txns', (client, seq) => connectionOf(context, client).txnPuts(keys.keys(seq), context.value));
};

/** Ranges and puts on the same key space; counts each kind that succeeded. */
export const mixed: WorkloadFactory = (context) => {
  const keys = context.keyGenerator(1);
  const { readRatio, consistency } = context.plan.options;
  const serializable = consistency === 's';
  const { recorder } = context;
  return requestWorkload('operations', async (client, seq) => {
    const connection = connectionOf(context, client);
    if (Math.random() < readRatio) {
      await connection.range(keys.key(seq), serializable);
      recorder.count('ranges');
    } else {
      await connection.put(keys.key(seq), context.value);
      recorder.count('puts');
    }
  });
};
