// HTTP endpoints etcd serves next to gRPC on the client port: /version and /health.
import type { HttpHandler } from '../grpc/index.js';
import type { Member } from '../../server/member.js';
import { ETCD_API_VERSION, ETCD_CLUSTER_VERSION } from '../../version.js';

export function httpEndpoints(member: Member): HttpHandler {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    switch (path) {
      case '/version':
        return json(200, { etcdserver: ETCD_API_VERSION, etcdcluster: ETCD_CLUSTER_VERSION });
      case '/health':
        // etcd's /health: healthy when the member has a leader and a linearizable read succeeds.
        member.linearizableBarrier().then(
          () => json(200, { health: 'true', reason: '' }),
          (e: Error) => json(503, { health: 'false', reason: e.message }),
        );
        return;
      default:
        res.statusCode = 404;
        res.end('404 page not found\n');
    }
  };
}
