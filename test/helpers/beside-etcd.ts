// One member of real etcd and one of tsetcd, started before the tests of the enclosing suite (or
// file) and destroyed after them, for tests that compare the two.
import { after, before } from 'node:test';
import { startServer, type ServerProcess } from './processes.js';

export interface SideBySide {
  etcd: ServerProcess;
  tsetcd: ServerProcess;
}

/** The servers are there once the suite's tests run (not while they are being declared). */
export function besideEtcd(): SideBySide {
  const servers = {} as SideBySide;
  before(async () => {
    [servers.etcd, servers.tsetcd] = await Promise.all([startServer('etcd'), startServer('tsetcd')]);
  });
  after(async () => {
    await Promise.all([servers.etcd?.destroy(), servers.tsetcd?.destroy()]);
  });
  return servers;
}
