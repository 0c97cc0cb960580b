import net from 'node:net';

/**
 * A TCP proxy the test controls, between the server and PostgreSQL or Redis: `cut()` resets every
 * open connection and refuses new ones (what a stopped database looks like to the server: connection
 * refused / reset, not a silent black hole), `restore()` lets connections through again. The port
 * stays the same across cuts, so the server's configuration never changes.
 */
export interface TcpProxy {
  readonly port: number;
  readonly url: (template: string) => string;
  cut(): void;
  restore(): void;
  readonly isCut: () => boolean;
  /** connections accepted while up, refused while cut */
  readonly stats: () => { accepted: number; refused: number; open: number };
  close(): Promise<void>;
}

export const startTcpProxy = async (target: { host: string; port: number }): Promise<TcpProxy> => {
  const open = new Set<net.Socket>();
  let cut = false;
  let accepted = 0;
  let refused = 0;
  const server = net.createServer((client) => {
    if (cut) {
      refused++;
      client.resetAndDestroy();
      return;
    }
    accepted++;
    const upstream = net.connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      open.delete(client);
      open.delete(upstream);
      if (!client.destroyed) client.destroy();
      if (!upstream.destroyed) upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: (template) => {
      const u = new URL(template);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString().replace(/\/$/, '');
    },
    cut() {
      cut = true;
      for (const s of [...open]) s.resetAndDestroy();
      open.clear();
    },
    restore() {
      cut = false;
    },
    isCut: () => cut,
    stats: () => ({ accepted, refused, open: open.size }),
    async close() {
      for (const s of [...open]) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
