// Named crash points for fault-injection tests, like etcd's gofail. Armed only through the
// environment, read once when this module loads (in each thread that loads it: the WAL writer
// thread reads its own copy of the environment):
//
//   TSETCD_FAILPOINTS="walBeforeFsync=crash@3,applyAfterCommit=crash"
//
// `crash` kills the whole process at once with SIGKILL (from a worker thread too), as a power
// cut would; `@N` fires on the Nth hit of the point instead of the first. Unset, failpoint() is
// one comparison against undefined.
import fs from 'node:fs';

export const FAILPOINT_NAMES = [
  /** WAL writer thread: a batch is about to be written and fsynced (nothing of it is durable). */
  'walBeforeFsync',
  /** WAL writer thread: the batch is durable, the main thread has not been told (nothing acknowledged). */
  'walAfterFsync',
  /** Applier: a batch of committed entries is applied in memory, its LMDB commit not yet started. */
  'applyBeforeCommit',
  /** Applier: the LMDB transaction holding a batch has committed (mvcc.committed() resolved). */
  'applyAfterCommit',
  /** Snapshot install: the snapshot is received and recorded in the WAL, the state not yet replaced. */
  'snapshotBeforeInstall',
  /** Snapshot install: the state files are replaced and reopened; membership and leases not yet reloaded. */
  'snapshotAfterInstall',
] as const;

export type FailpointName = (typeof FAILPOINT_NAMES)[number];

export const FAILPOINTS_ENV = 'TSETCD_FAILPOINTS';

export interface FailpointSpec {
  action: 'crash';
  /** Fires on this hit (1 = the first). */
  onHit: number;
}

export class FailpointSyntaxError extends Error {
  override readonly name = 'FailpointSyntaxError';
}

/** Parses `name=crash[@N],...`; throws FailpointSyntaxError naming the bad part. */
export function parseFailpoints(text: string): Map<FailpointName, FailpointSpec> {
  const out = new Map<FailpointName, FailpointSpec>();
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^([A-Za-z]+)=(crash)(?:@([1-9][0-9]*))?$/.exec(part);
    if (m === null) throw new FailpointSyntaxError(`${FAILPOINTS_ENV}: "${part}" is not name=crash or name=crash@N`);
    const name = m[1]!;
    if (!isFailpointName(name)) throw new FailpointSyntaxError(`${FAILPOINTS_ENV}: unknown failpoint ${name} (known: ${FAILPOINT_NAMES.join(', ')})`);
    out.set(name, { action: 'crash', onHit: m[3] === undefined ? 1 : Number(m[3]) });
  }
  return out;
}

function isFailpointName(name: string): name is FailpointName {
  return (FAILPOINT_NAMES as readonly string[]).includes(name);
}

interface Armed extends FailpointSpec {
  hits: number;
}

const armed: Map<FailpointName, Armed> | undefined = (() => {
  const text = process.env[FAILPOINTS_ENV];
  if (text === undefined || text.trim() === '') return undefined;
  const specs = parseFailpoints(text);
  return new Map([...specs].map(([name, spec]) => [name, { ...spec, hits: 0 }]));
})();

/** Counts a hit of `name` and carries out its action if this is the hit it is armed for. */
export function failpoint(name: FailpointName): void {
  if (armed === undefined) return;
  const point = armed.get(name);
  if (point === undefined || ++point.hits !== point.onHit) return;
  // Written synchronously so the line is out before the process dies; tests look for it.
  fs.writeSync(2, `failpoint ${name} fired (hit ${point.hits}): crash\n`);
  process.kill(process.pid, 'SIGKILL');
}

/** Whether `name` is armed: lets a call site skip work (a commit wait) that only the failpoint needs. */
export function failpointArmed(name: FailpointName): boolean {
  return armed !== undefined && armed.has(name);
}
