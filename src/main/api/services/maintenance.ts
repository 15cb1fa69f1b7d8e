// etcdserverpb.Maintenance: status, hashes and alarms of this member.
import type { Member } from '../../server/member.js';
import { ETCD_API_VERSION } from '../../version.js';
import type { MaintenanceService } from '../grpc/etcd-services.js';
import type { ServiceHandlers } from '../grpc/index.js';

export function maintenanceHandlers(member: Member): Partial<ServiceHandlers<typeof MaintenanceService>> {
  return {
    Status() {
      const s = member.status();
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

    Hash() {
      return { header: member.header(), hash: member.mvcc.hash() };
    },

    HashKV(req) {
      const r = member.mvcc.hashKV(req.revision);
      return { header: member.header(r.revision), hash: r.hash, compactRevision: r.compactRevision };
    },

    Alarm() {
      // No alarm is ever raised yet (space quota and corruption checks come with later work).
      return { header: member.header(), alarms: [] };
    },

    Defragment() {
      // LMDB reuses freed pages in place; there is nothing to rewrite.
      return { header: member.header() };
    },
  };
}
