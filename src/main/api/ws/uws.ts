// uWebSockets.js: the part of its API tsetcd uses, and a loader that tries each build it may be
// installed as. Both are optional dependencies: `uWebSockets.js` (a republish with binaries for
// Node 16-20) and `uWebSockets.js-node22` (Node 20-25, glibc >= 2.38). A build that does not load
// (wrong Node ABI, older glibc, not installed) is skipped; when none loads the caller carries on
// without uWebSockets.js.

export interface UwsListenSocket {
  readonly __uwsListenSocket?: never;
}

export interface UwsHttpRequest {
  getMethod(): string;
  getUrl(): string;
  getQuery(): string | undefined;
  getHeader(lowerCaseName: string): string;
}

export interface UwsHttpResponse {
  writeStatus(status: string): UwsHttpResponse;
  writeHeader(key: string, value: string): UwsHttpResponse;
  /** False when (part of) the chunk was buffered: wait for onWritable. */
  write(chunk: string | Uint8Array): boolean;
  end(body?: string | Uint8Array, closeConnection?: boolean): UwsHttpResponse;
  onAborted(handler: () => void): UwsHttpResponse;
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): UwsHttpResponse;
  onWritable(handler: (offset: number) => boolean): UwsHttpResponse;
  /** Batches writes made outside uWS's own callbacks into one syscall. */
  cork(cb: () => void): UwsHttpResponse;
}

export interface UwsWebSocket<UserData> {
  /** 1: sent, 0: buffered (backpressure), 2: dropped (over maxBackpressure). */
  send(message: Uint8Array, isBinary: boolean, compress?: boolean): number;
  getBufferedAmount(): number;
  /** Closes gracefully with a close frame. */
  end(code?: number, shortMessage?: string): void;
  cork(cb: () => void): UwsWebSocket<UserData>;
  getUserData(): UserData;
}

export interface UwsWebSocketBehavior<UserData> {
  maxPayloadLength?: number;
  idleTimeout?: number;
  maxBackpressure?: number;
  closeOnBackpressureLimit?: boolean;
  sendPingsAutomatically?: boolean;
  open?: (ws: UwsWebSocket<UserData>) => void;
  message?: (ws: UwsWebSocket<UserData>, message: ArrayBuffer, isBinary: boolean) => void;
  drain?: (ws: UwsWebSocket<UserData>) => void;
  close?: (ws: UwsWebSocket<UserData>, code: number, message: ArrayBuffer) => void;
}

export interface UwsApp {
  ws<UserData>(pattern: string, behavior: UwsWebSocketBehavior<UserData>): UwsApp;
  any(pattern: string, handler: (res: UwsHttpResponse, req: UwsHttpRequest) => void): UwsApp;
  listen(host: string, port: number, cb: (socket: UwsListenSocket | false) => void): UwsApp;
  /** Closes the listen sockets and every connection. */
  close(): void;
}

export interface Uws {
  App(): UwsApp;
}

/** The packages tried, in order. */
export const UWS_PACKAGES: readonly string[] = ['uWebSockets.js', 'uWebSockets.js-node22'];

export type UwsLoad = { readonly ok: true; readonly uws: Uws; readonly from: string } | { readonly ok: false; readonly reasons: readonly string[] };

/** Loads the first build of uWebSockets.js that works here; otherwise why each one did not. */
export async function loadUws(packages: readonly string[] = UWS_PACKAGES): Promise<UwsLoad> {
  const reasons: string[] = [];
  for (const name of packages) {
    try {
      const mod: unknown = await import(name);
      const uws = (mod as { default?: unknown }).default ?? mod;
      // The first republish falls back to a partial JavaScript imitation when its binary does not
      // load; only the native build (which has SSLApp) is uWebSockets.js.
      if (!isNativeUws(uws)) throw new Error('only its JavaScript fallback loaded, not the native build');
      return { ok: true, uws, from: name };
    } catch (e) {
      reasons.push(`${name}: ${firstLine(e)}`);
    }
  }
  return { ok: false, reasons };
}

function isNativeUws(m: unknown): m is Uws {
  return typeof m === 'object' && m !== null && typeof (m as Record<string, unknown>)['App'] === 'function' && typeof (m as Record<string, unknown>)['SSLApp'] === 'function';
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  // Node's loader errors end with the detail (e.g. the missing glibc version) after a blank line.
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.length <= 1 ? (lines[0] ?? text) : `${lines[0]} (${lines[lines.length - 1]})`;
}
