// etcdserverpb.Cluster: the membership as this member knows it.
import type { Member } from '../../server/member.js';
import type { ClusterService } from '../grpc/etcd-services.js';
import type { ServiceHandlers } from '../grpc/index.js';

export function clusterHandlers(member: Member): Partial<ServiceHandlers<typeof ClusterService>> {
  return {
    async MemberList(req) {
      if (req.linearizable) await member.linearizableBarrier();
      const { revision: _revision, ...header } = member.header();
      return {
        header,
        members: member.members.map((m) => ({
          ID: m.id,
          name: m.name,
          peerURLs: m.peerUrls,
          clientURLs: m.clientUrls,
          isLearner: m.isLearner,
        })),
      };
    },
  };
}
