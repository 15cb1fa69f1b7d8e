// Workload name → factory.

import type { WorkloadName } from '../flags.js';
import { mixed, put, range, txnPut } from './kv.js';
import { leaseKeepAlive } from './lease-keepalive.js';
import { watch } from './watch.js';
import type { WorkloadFactory } from './workload.js';

export const WORKLOAD_FACTORIES: Readonly<Record<WorkloadName, WorkloadFactory>> = {
  put,
  range,
  'txn-put': txnPut,
  mixed,
  // watch-latency differs only in its defaults (--rate 100, --total 1000), see flags.ts.
  watch,
  'watch-latency': watch,
  'lease-keepalive': leaseKeepAlive,
};
