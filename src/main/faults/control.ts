// The fault proxy's control API: JSON over HTTP on a port of its own.
//
//   GET  /links                                   every link with faults, connections or traffic
//   POST /faults     {"from"?, "to"?, "faults": {...LinkFaults fields}}   merge into selected links
//   POST /partition  {"groups": [["m1"], ["m2","m3"]], "mode"?: "drop"|"hold"}
//   POST /heal                                    end every partition
//   POST /clear                                   every link back to a plain relay
//   POST /reset      {"from"?, "to"?}             reset the selected links' connections now
//
// `from`/`to` are a member name or a list of names; missing means all. Answers 200 with JSON, or
// 400 {"error": ...} for a request it cannot carry out.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultConfigError } from './link-faults.js';
import type { FaultProxy, LinkSelector } from './proxy.js';

const MAX_BODY_BYTES = 64 * 1024;

export interface ControlServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startControlServer(proxy: FaultProxy, host: string, port: number): Promise<ControlServer> {
  const server = http.createServer((req, res) => {
    readBody(req)
      .then((body) => handle(proxy, req.method ?? 'GET', (req.url ?? '/').split('?')[0]!, body))
      .then(
        (answer) => reply(res, 200, answer),
        (e: unknown) => reply(res, e instanceof RequestError || e instanceof FaultConfigError || e instanceof SyntaxError ? 400 : 500, { error: (e as Error).message }),
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

class RequestError extends Error {}

function handle(proxy: FaultProxy, method: string, path: string, body: unknown): unknown {
  if (method === 'GET' && path === '/links') return { routes: proxy.routes, links: proxy.links() };
  if (method !== 'POST') throw new RequestError(`${method} ${path}: not found`);
  switch (path) {
    case '/faults':
      proxy.setFaults(selector(body), field(body, 'faults') as object);
      return { links: proxy.links() };
    case '/partition': {
      const groups = field(body, 'groups');
      if (!Array.isArray(groups) || !groups.every((g) => Array.isArray(g) && g.every((n) => typeof n === 'string'))) {
        throw new RequestError('groups must be a list of lists of member names');
      }
      const mode = (body as { mode?: unknown }).mode ?? 'drop';
      if (mode !== 'drop' && mode !== 'hold') throw new RequestError('mode must be drop or hold');
      proxy.partition(groups as string[][], mode);
      return { links: proxy.links() };
    }
    case '/heal':
      proxy.heal();
      return { links: proxy.links() };
    case '/clear':
      proxy.clear();
      return { links: proxy.links() };
    case '/reset':
      return { reset: proxy.resetConnections(selector(body)) };
    default:
      throw new RequestError(`POST ${path}: not found`);
  }
}

function field(body: unknown, name: string): unknown {
  if (typeof body !== 'object' || body === null || !(name in body)) throw new RequestError(`missing ${name}`);
  return (body as Record<string, unknown>)[name];
}

function selector(body: unknown): LinkSelector {
  const out: LinkSelector = {};
  if (typeof body !== 'object' || body === null) return out;
  for (const side of ['from', 'to'] as const) {
    const v = (body as Record<string, unknown>)[side];
    if (v === undefined) continue;
    if (typeof v === 'string' || (Array.isArray(v) && v.every((n) => typeof n === 'string'))) out[side] = v as string | string[];
    else throw new RequestError(`${side} must be a member name or a list of names`);
  }
  return out;
}

function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RequestError('request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      try {
        resolve(text === '' ? {} : (JSON.parse(text) as unknown));
      } catch (e) {
        reject(e);
      }
    });
    req.on('error', reject);
  });
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(`${JSON.stringify(body)}\n`);
}
