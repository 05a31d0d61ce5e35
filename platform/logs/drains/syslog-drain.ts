import net from 'node:net';
import tls from 'node:tls';
import { Drain } from './drain.ts';
import { syslogFrames } from './syslog-format.ts';

const BATCH = 1024;
const CONNECT_TIMEOUT_MS = 10_000;

/** `syslog://host:port` and `syslog+tls://host:port`: RFC 5424 messages, octet-counted, over one TCP (TLS) connection. */
export class SyslogDrain extends Drain {
  private socket: net.Socket | undefined;

  /** `ca`: trust this certificate besides the system's (tests, private log hosts). */
  constructor(url: string, opts: ConstructorParameters<typeof Drain>[1] & { ca?: string } = {}) {
    super(url, opts);
  }

  private connect(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    const u = new URL(this.url);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const port = Number(u.port);
    return new Promise((resolve, reject) => {
      const secure = u.protocol === 'syslog+tls:';
      const socket = secure
        ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...((this.opts as { ca?: string }).ca ? { ca: [...tls.rootCertificates, (this.opts as { ca?: string }).ca!] } : {}) })
        : net.connect({ host, port });
      const timer = setTimeout(() => socket.destroy(new Error(`connecting to ${host}:${port} timed out`)), CONNECT_TIMEOUT_MS);
      socket.once(secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 30_000);
        this.socket = socket;
        resolve(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.on('error', () => {});
      socket.once('close', () => {
        if (this.socket === socket) this.socket = undefined;
      });
      // The receiver has nothing to say; reading keeps the connection from stalling on its side.
      socket.resume();
    });
  }

  protected async deliver(): Promise<void> {
    const socket = await this.connect();
    const batch = this.queue.splice(0, BATCH);
    const ok = socket.write(syslogFrames(batch));
    this.stats.sent += batch.length;
    if (ok) return;
    // A receiver that stops reading fills the socket: wait here, while new lines fill the buffer and then drop.
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        socket.off('drain', onDrain).off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(new Error('connection closed'));
      socket.once('drain', onDrain).once('close', onClose);
    });
  }

  protected override disconnect(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }
}
