// The data directory's layout and format version. A member refuses a directory it cannot read
// (a newer or unknown tsetcd format, or a real etcd's bbolt/WAL files) with a clear message.
import fs from 'node:fs';
import path from 'node:path';

/** Bump when the on-disk layout changes incompatibly. */
export const DATA_FORMAT = 1;
const FORMAT_FILE = 'tsetcd-format.json';

export interface DataDirLayout {
  memberDir: string;
  /** LMDB environment holding the Raft log (written by the WAL thread). */
  walDir: string;
  /** LMDB environment holding the MVCC store and applied state. */
  stateDir: string;
  /** Where incoming snapshots are staged before they are installed. */
  snapDir: string;
}

export class DataDirError extends Error {
  override name = 'DataDirError';
}

export function layoutOf(dataDir: string): DataDirLayout {
  const memberDir = path.join(dataDir, 'member');
  return {
    memberDir,
    walDir: path.join(memberDir, 'wal'),
    stateDir: path.join(memberDir, 'db'),
    snapDir: path.join(memberDir, 'snap'),
  };
}

interface FormatRecord {
  format: number;
  createdBy: string;
}

/**
 * Opens (or creates) the data dir. Returns whether it already held a member's data,
 * which decides between bootstrapping a new member and restarting one.
 */
export function prepareDataDir(dataDir: string): { layout: DataDirLayout; existed: boolean } {
  const layout = layoutOf(dataDir);
  const formatPath = path.join(layout.memberDir, FORMAT_FILE);
  if (fs.existsSync(formatPath)) {
    checkFormat(formatPath);
    return { layout, existed: true };
  }
  if (fs.existsSync(path.join(layout.snapDir, 'db')) || hasEtcdWal(layout.walDir)) {
    throw new DataDirError(
      `data dir ${dataDir} holds a real etcd member's data (bbolt db / .wal files); tsetcd cannot read it. ` +
        'Migrate with `etcdctl snapshot save` + `etcdctl put`, or point --data-dir elsewhere',
    );
  }
  // No format record: a bootstrap that never finished (the record is written last). Start over.
  fs.rmSync(layout.memberDir, { recursive: true, force: true });
  for (const dir of [layout.memberDir, layout.walDir, layout.stateDir, layout.snapDir]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  return { layout, existed: false };
}

/** Written last during bootstrap, fsynced, so a half-created dir is never taken for a member. */
export function writeFormat(layout: DataDirLayout, createdBy: string): void {
  const record: FormatRecord = { format: DATA_FORMAT, createdBy };
  const file = path.join(layout.memberDir, FORMAT_FILE);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  fs.writeSync(fd, JSON.stringify(record) + '\n');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  const dirFd = fs.openSync(layout.memberDir, 'r');
  fs.fsyncSync(dirFd);
  fs.closeSync(dirFd);
}

function checkFormat(formatPath: string): void {
  let record: Partial<FormatRecord>;
  try {
    record = JSON.parse(fs.readFileSync(formatPath, 'utf8')) as Partial<FormatRecord>;
  } catch (e) {
    throw new DataDirError(`cannot read ${formatPath}: ${(e as Error).message}`);
  }
  if (typeof record.format !== 'number') {
    throw new DataDirError(`${formatPath} has no format version; refusing to open an unknown data format`);
  }
  if (record.format !== DATA_FORMAT) {
    const which = record.format > DATA_FORMAT ? 'a newer' : 'an unknown';
    throw new DataDirError(
      `data dir format ${record.format} (written by ${record.createdBy ?? 'unknown'}) is ${which} format than this tsetcd supports (${DATA_FORMAT}); refusing to open it`,
    );
  }
}

function hasEtcdWal(walDir: string): boolean {
  return fs.existsSync(walDir) && fs.readdirSync(walDir).some((f) => f.endsWith('.wal'));
}
