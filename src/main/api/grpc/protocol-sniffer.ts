// One port, two protocols (as etcd serves them): a connection that opens with the HTTP/2 client
// preface goes to HTTP/2 (gRPC and h2c HTTP), anything else to HTTP/1.x.

import type net from 'node:net';
import { CLIENT_PREFACE as PREFACE } from './h2-frames.js';

export type Protocol = 'h2' | 'http1';

/**
 * Reads until the first bytes decide the protocol, puts them back (socket.unshift) and calls
 * `decided`. A connection that stays silent for `timeoutMs`, or closes first, is destroyed.
 */
export function sniffProtocol(socket: net.Socket, timeoutMs: number, decided: (protocol: Protocol) => void): void {
  let seen: Buffer | null = null;

  const onReadable = (): void => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) seen = seen === null ? chunk : Buffer.concat([seen, chunk]);
    if (seen === null) return;
    const n = Math.min(seen.length, PREFACE.length);
    if (seen.compare(PREFACE, 0, n, 0, n) !== 0) done('http1');
    else if (seen.length >= PREFACE.length) done('h2');
  };
  const done = (protocol: Protocol): void => {
    reader.stop();
    socket.unshift(seen!);
    decided(protocol);
  };

  const reader = readWhileSniffing(socket, timeoutMs, onReadable);
}

export interface SniffingReader {
  /** Stops reading and watching; the socket is left as it is. */
  stop(): void;
  /** Stops and destroys the socket. */
  giveUp(): void;
}

/**
 * Calls `onReadable` as bytes arrive, until stop(). A socket that stays silent for `timeoutMs`
 * (callers may change the timeout with socket.setTimeout meanwhile), or ends first, is destroyed.
 */
export function readWhileSniffing(socket: net.Socket, timeoutMs: number, onReadable: () => void): SniffingReader {
  const stop = (): void => {
    socket.off('readable', onReadable);
    socket.off('timeout', giveUp);
    socket.off('end', giveUp);
    socket.setTimeout(0);
  };
  const giveUp = (): void => {
    stop();
    socket.destroy();
  };
  socket.setTimeout(timeoutMs);
  socket.on('timeout', giveUp);
  socket.on('end', giveUp);
  socket.on('readable', onReadable);
  return { stop, giveUp };
}
