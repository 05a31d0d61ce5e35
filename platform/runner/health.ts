import net from 'node:net';

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Waits until something accepts connections on host:port; false on timeout or when `gone()` says the process died. */
export async function waitForPort(host: string, port: number, timeoutMs: number, gone: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await connects(host, port)) return true;
    if (await gone()) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
