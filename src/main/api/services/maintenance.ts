// etcdserverpb.Maintenance: status, hashes and alarms of this member.
import type { Member } from '../../server/member.js';
import { ETCD_API_VERSION } from '../../version.js';
import type { MaintenanceService } from '../grpc/etcd-services.js';
import type { ServiceHandlers } from '../grpc/index.js';

export function maintenanceHandlers(member: Member): Partial<ServiceHandlers<typeof MaintenanceService>> {
  return {
    async Status() {
      const s = await member.status();
      return {
        header: member.header(),
        version: ETCD_API_VERSION,
        dbSize: s.dbSize,
        dbSizeInUse: s.dbSize,
        leader: s.leader,
        raftIndex: s.raftIndex,
        raftTerm: s.raftTerm,
        raftAppliedIndex: s.raftAppliedIndex,
        errors: [],
        isLearner: s.isLearner,
      };
    },

    async Hash() {
      return { header: member.header(), hash: await member.mvcc.hash() };
    },

    async HashKV(req) {
      const r = await member.mvcc.hashKV(req.revision);
      return { header: member.header(r.revision), hash: r.hash, compactRevision: r.compactRevision };
    },

    Alarm() {
      // No alarm is ever raised yet (space quota and corruption checks come with later work).
      return { header: member.header(), alarms: [] };
    },

    async MoveLeader(req) {
      await member.moveLeader(req.targetID);
      return { header: member.header() };
    },

    Defragment() {
      // LMDB reuses freed pages in place; there is nothing to rewrite.
      return { header: member.header() };
    },
  };
}
