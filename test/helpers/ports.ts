// Free TCP ports on loopback for servers under test. They are picked below the kernel's ephemeral
// range: a port from that range can be taken as the local port of any outgoing connection (a
// client, a peer reconnecting) while a killed member is down, and its restart then fails with
// EADDRINUSE. A process never hands out the same port twice; each port is checked free by binding it.
import fs from 'node:fs';
import net from 'node:net';

/** Ports below this are never handed out by the kernel to outgoing connections. */
const EPHEMERAL_START = (() => {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32768; // Linux's default
  }
})();
const LOWEST = 10000;
/** Where the ephemeral range starts too low to leave room, the first 1,000 ports above LOWEST. */
const HIGHEST = Math.max(EPHEMERAL_START, LOWEST + 1000);

const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (;;) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST));
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
