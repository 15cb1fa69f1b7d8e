// uWebSockets.js on the --listen-client-http-urls addresses: the WebSocket API at /ws and every
// other path through the same HTTP router as the client port.
import { listenHost } from '../http/listen-host.js';
import type { HttpOnlyDeps, HttpOnlyListeners } from './http-only.js';
import { wsOperations } from './operations.js';
import { WsSession, type WsBackend, type WsLimits, type WsSocket } from './session.js';
import { uwsHttpHandler } from './uws-exchange.js';
import type { Uws, UwsApp, UwsWebSocket } from './uws.js';

const LIMITS: WsLimits = {
  /** Requests started and not answered, per connection (a bench client runs ~1000 at once). */
  maxInFlight: 4096,
  /** Above this many buffered bytes a connection stops starting requests until it drains. */
  highWaterBytes: 4 * 1024 * 1024,
};
/** uWS closes a connection whose send buffer grows past this (a client that stopped reading). */
const MAX_BACKPRESSURE_BYTES = 64 * 1024 * 1024;
const IDLE_TIMEOUT_S = 120;

interface Connection {
  session?: WsSession;
  /** uWS forbids touching a WebSocket once closed. */
  closed?: boolean;
}

export async function listenUwsApi(uws: Uws, urls: readonly string[], deps: HttpOnlyDeps): Promise<HttpOnlyListeners> {
  const backend: WsBackend = { operations: wsOperations(deps.member), watchHub: () => deps.member.watch };
  const apps: UwsApp[] = [];
  for (const url of urls) {
    const app = uws.App();
    app.ws<Connection>('/ws', {
      maxPayloadLength: deps.maxMessageBytes,
      idleTimeout: IDLE_TIMEOUT_S,
      sendPingsAutomatically: true,
      maxBackpressure: MAX_BACKPRESSURE_BYTES,
      closeOnBackpressureLimit: true,
      open: (ws) => {
        ws.getUserData().session = new WsSession(socketOf(ws), backend, LIMITS);
      },
      message: (ws, message, isBinary) => ws.getUserData().session?.onMessage(message, isBinary),
      drain: (ws) => ws.getUserData().session?.onDrain(),
      close: (ws) => {
        const conn = ws.getUserData();
        conn.closed = true;
        conn.session?.onClose();
      },
    });
    app.any('/*', uwsHttpHandler(deps.route));
    await listen(app, url);
    deps.log.info({ address: url }, 'serving http only client traffic and the WebSocket API (uWebSockets.js)');
    apps.push(app);
  }
  return {
    close: () => {
      for (const app of apps) app.close();
      return Promise.resolve();
    },
  };
}

function listen(app: UwsApp, url: string): Promise<void> {
  const port = Number(new URL(url).port);
  return new Promise((resolve, reject) => {
    app.listen(listenHost(url), port, (socket) => {
      if (socket === false) reject(new Error(`uWebSockets.js cannot listen on ${url}`));
      else resolve();
    });
  });
}

function socketOf(ws: UwsWebSocket<Connection>): WsSocket {
  const conn = ws.getUserData();
  return {
    send: (frame) => {
      if (conn.closed !== true) ws.send(frame, true);
    },
    cork: (fn) => {
      if (conn.closed !== true) ws.cork(fn);
    },
    bufferedAmount: () => (conn.closed === true ? 0 : ws.getBufferedAmount()),
    end: (code, reason) => {
      if (conn.closed === true) return;
      conn.closed = true;
      ws.end(code, reason);
    },
  };
}
