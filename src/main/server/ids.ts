// Member and cluster ids derived exactly as etcd derives them, so the same flags give the same ids
// (etcdserver/api/membership: NewMember and RaftCluster.genID).
import { createHash } from 'node:crypto';

/** sha1(sorted peer URLs concatenated + cluster token), first 8 bytes big-endian. */
export function memberId(peerUrls: readonly string[], clusterToken: string): bigint {
  const text = [...peerUrls].sort().join('') + clusterToken;
  return createHash('sha1').update(text).digest().readBigUInt64BE(0);
}

/** sha1 of the member ids (ascending, 8 bytes big-endian each), first 8 bytes big-endian. */
export function clusterId(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => buf.writeBigUInt64BE(id, 8 * i));
  return createHash('sha1').update(buf).digest().readBigUInt64BE(0);
}

/** etcd prints ids as lowercase hex without padding. */
export function idHex(id: bigint): string {
  return id.toString(16);
}
