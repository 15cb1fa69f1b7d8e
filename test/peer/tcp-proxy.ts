// A TCP relay between a dialer and a listener that counts the bytes it forwards toward the
// listener and can stop forwarding: enough to cut a transfer at a chosen point.
import net from 'node:net';
import { closeAfterTest } from './harness.js';

export class TcpProxy {
  /** Bytes forwarded from dialers to the target so far. */
  forwarded = 0;
  private paused = false;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private readonly server: net.Server;

  constructor(
    private readonly targetPort: number,
    /** Called after each forwarded chunk. */
    private readonly onForward: (total: number) => void = () => {},
  ) {
    closeAfterTest(this);
    this.server = net.createServer((client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: this.targetPort });
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.pairs.add(pair);
      client.on('data', (chunk: Buffer) => {
        this.forwarded += chunk.length;
        if (!upstream.write(chunk)) client.pause();
        this.onForward(this.forwarded);
      });
      upstream.on('drain', () => {
        if (!this.paused) client.resume();
      });
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
      for (const s of pair) {
        s.on('error', () => {});
        s.on('close', () => {
          this.pairs.delete(pair);
          client.destroy();
          upstream.destroy();
        });
      }
      if (this.paused) client.pause();
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Stops reading from dialers. */
  pause(): void {
    this.paused = true;
    for (const [client] of this.pairs) client.pause();
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) for (const s of pair) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
