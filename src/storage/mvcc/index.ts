// The MVCC storage engine: etcd's multi-version key-value store on LMDB. See store.ts.
export * from './types.js';
export { MvccStore, MvccBrokenError, MVCC_DB_NAMES, MVCC_UNCOMMITTED_LIMIT_BYTES } from './store.js';
export { EventType, type Change, type ChangeListener, type HistoryBatch, type HistoryLimits, type KeyRange, type MvccEvent } from './events.js';
