import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import mysql from 'mysql2/promise';
import { sm2 } from 'sm-crypto-v2';
import { verifyEnvelope, type HubEnvelope } from '../../infrastructure/exchange/haochaping.ts';

export const MARIADB = process.env.EXCHANGE_TEST_MYSQL ?? 'mysql://root@127.0.0.1:3306';

/** A MariaDB database of its own for one test file; `drop()` removes it. */
export const createMariaDatabase = async (label: string) => {
  const name = `gc_${label.replace(/\W/g, '_').toLowerCase().slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: MARIADB });
  await admin.query(`create database ${name} character set utf8mb4`);
  const pool = mysql.createPool({ uri: `${MARIADB}/${name}`, connectionLimit: 2, dateStrings: true });
  return {
    name,
    url: `${MARIADB}/${name}`,
    urlVia: (port: number) => `mysql://root@127.0.0.1:${port}/${name}`,
    async rows<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
      const [r] = await pool.query(sql, params);
      return r as T[];
    },
    async drop() {
      await pool.end();
      await admin.query(`drop database if exists ${name}`);
      await admin.end();
    },
  };
};

export const hubKeys = () => sm2.generateKeyPairHex();

/**
 * A local 好差评 hub: verifies signatures, keeps each accepted message once per nonce (answering a
 * repeat with "评价数据不可重复", as hubs do), and answers from a script when the test gives one.
 */
export const startReceiver = async (publicKey: string) => {
  const accepted = new Map<string, HubEnvelope>();
  const order: HubEnvelope[] = [];
  const requests: HubEnvelope[] = [];
  let badSignatures = 0;
  const scripts = new Map<string, number[]>();
  let delayMs = 0;
  let failAll = false;
  let onAccept: ((n: number) => void) | undefined;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', async () => {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      const env = JSON.parse(body) as HubEnvelope;
      requests.push(env);
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(payload));
      };
      if (!verifyEnvelope(env, publicKey)) { badSignatures++; return reply(401, { code: '401', msg: '签名错误' }); }
      if (failAll) return reply(503, { code: '503', msg: 'down' });
      const script = [...scripts.entries()].find(([k]) => env.nonce.includes(k));
      if (script && script[1].length > 0) {
        const status = script[1].shift()!;
        if (status !== 200) return reply(status, { code: String(status), msg: 'scripted failure' });
      }
      if (accepted.has(env.nonce)) return reply(200, { code: '500', msg: '评价数据不可重复' });
      accepted.set(env.nonce, env);
      order.push(env);
      reply(200, { code: '200', msg: '成功' });
      onAccept?.(accepted.size);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/api/evaluation/push`,
    accepted, order, requests,
    get badSignatures() { return badSignatures; },
    /** answer the next requests whose nonce contains `fragment` with these statuses (200 = go on normally) */
    script(fragment: string, statuses: number[]) { scripts.set(fragment, [...statuses]); },
    /** mark a nonce as already received (a hub that has it from elsewhere) */
    preload(nonce: string) { accepted.set(nonce, { nonce } as HubEnvelope); },
    setDelay(ms: number) { delayMs = ms; },
    setFailAll(v: boolean) { failAll = v; },
    /** called after each newly accepted message with the count so far */
    onAccept(fn: ((n: number) => void) | undefined) { onAccept = fn; },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
};

/** A TCP proxy the test can cut and restore (the exchange database "down for a while"). */
export const startProxy = async (targetPort: number) => {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  const open = async () => {
    server = net.createServer((client) => {
      const upstream = net.connect(targetPort, '127.0.0.1');
      sockets.add(client); sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
      client.on('error', drop); upstream.on('error', drop); client.on('close', drop); upstream.on('close', drop);
    });
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  };
  await open();
  return {
    get port() { return port; },
    /** refuse connections and cut the open ones */
    async cut() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise<void>((r) => server!.close(() => r()));
    },
    restore: open,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => (server?.listening ? server.close(() => r()) : r()));
    },
  };
};

export const waitUntil = async (check: () => Promise<boolean>, timeoutMs = 30_000, what = 'condition') => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
};
