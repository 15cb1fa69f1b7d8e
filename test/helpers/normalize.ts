// Makes etcdctl output comparable between real etcd and tsetcd: ids, terms, raft indexes,
// versions, sizes, timings and endpoints differ between any two clusters; everything else must not.
export function normalize(text: string): string {
  return text
    .replace(/"(cluster_id|member_id|leader|ID)":\d+/g, '"$1":<id>')
    .replace(/"(ClusterID|MemberID)" : \d+/g, '"$1" : <id>')
    .replace(/"raft_term":\d+/g, '"raft_term":<term>')
    .replace(/"RaftTerm" : \d+/g, '"RaftTerm" : <term>')
    .replace(/took = [\d.]+[µmn]?s/g, 'took = <t>')
    .replace(/127\.0\.0\.1:\d+/g, '<host:port>')
    .replace(/\b[0-9a-f]{13,16}\b/g, '<id>')
    .replace(/\{"level":"warn".*\n/g, '');
}
