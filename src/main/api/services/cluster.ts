// etcdserverpb.Cluster: the membership, and single-member changes through Raft.
import { Errors } from '../../errors.js';
import { ConfChangeType } from '../../raft/types.js';
import type { Member } from '../../server/member.js';
import { memberId } from '../../server/ids.js';
import type { MemberRecord } from '../../../storage/state/state-store.js';
import { parseUrls, ConfigError } from '../../config/flags.js';
import type { ClusterService } from '../grpc/etcd-services.js';
import type { ServiceHandlers } from '../grpc/index.js';
import type * as pb from '../proto/index.js';
import type { Init } from '../proto/index.js';

const toWire = (m: MemberRecord): Init<pb.Member> => ({
  ID: m.id,
  name: m.name,
  peerURLs: m.peerUrls,
  clientURLs: m.clientUrls,
  isLearner: m.isLearner,
});

function validPeerUrls(urls: readonly string[]): string[] {
  if (urls.length === 0) throw Errors.memberBadURLs;
  try {
    return parseUrls('initial-advertise-peer-urls', urls.join(','));
  } catch (e) {
    if (e instanceof ConfigError) throw Errors.memberBadURLs;
    throw e;
  }
}

export function clusterHandlers(member: Member): ServiceHandlers<typeof ClusterService> {
  /** Header without a revision: etcd's cluster responses carry none. */
  const header = () => {
    const { revision: _revision, ...rest } = member.header();
    return rest;
  };
  const find = (id: bigint) => member.members.find((m) => m.id === id);

  return {
    async MemberList(req) {
      if (req.linearizable) await member.linearizableBarrier();
      return { header: header(), members: member.members.map(toWire) };
    },

    async MemberAdd(req) {
      const peerUrls = validPeerUrls(req.peerURLs);
      const taken = new Set(member.members.flatMap((m) => m.peerUrls));
      if (peerUrls.some((u) => taken.has(u))) throw Errors.peerURLExist;
      // etcd mixes the time into a new member's id, so re-adding the same URLs gives a new id.
      const id = memberId(peerUrls, member.config.initialClusterToken + Math.floor(Date.now() / 1000));
      if (find(id) !== undefined) throw Errors.memberExist;
      const record: MemberRecord = { id, name: '', peerUrls, clientUrls: [], isLearner: req.isLearner };
      const type = req.isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode;
      const members = await member.changeMembership(type, id, record);
      return { header: header(), member: toWire(record), members: members.map(toWire) };
    },

    async MemberRemove(req) {
      if (find(req.ID) === undefined) throw Errors.memberNotFound;
      const members = await member.changeMembership(ConfChangeType.RemoveNode, req.ID);
      return { header: header(), members: members.map(toWire) };
    },

    async MemberUpdate(req) {
      if (find(req.ID) === undefined) throw Errors.memberNotFound;
      const peerUrls = validPeerUrls(req.peerURLs);
      const res = await member.write({ op: 'memberPeerUrls', memberId: req.ID, peerUrls });
      return { header: header(), members: res.op === 'membership' ? res.members.map(toWire) : [] };
    },

    async MemberPromote(req) {
      const m = find(req.ID);
      if (m === undefined) throw Errors.memberNotFound;
      if (!m.isLearner) throw Errors.memberNotLearner;
      const members = await member.changeMembership(ConfChangeType.AddNode, req.ID);
      return { header: header(), members: members.map(toWire) };
    },
  };
}
