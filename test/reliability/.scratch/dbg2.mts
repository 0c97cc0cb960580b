import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { startTcpProxy } from '../support/tcpProxy.ts';
import { createServerProcess, RELIABILITY_JWT_SECRET } from '../support/serverProcess.ts';
import { freshSchema } from '../support/verify.ts';
import { makeTokens, publishItem, startLoad } from '../support/load.ts';
const db = 'postgres://postgres@127.0.0.1:5432/test';
const { schema, drop } = await freshSchema(db, 'dbg');
const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
const server = createServerProcess({ databaseUrl: proxy.url(db), schema });
await server.start();
const tokens = await makeTokens(RELIABILITY_JWT_SECRET);
const itemCode = `REL-${randomUUID().slice(0, 8)}`;
const steps = await publishItem(server.url(), tokens, itemCode);
const load = startLoad({ url: server.url, tokens, itemCode, steps, workers: 4, pauseMs: 20 });
await new Promise(r => setTimeout(r, 3000));
const c = new pg.Client({ connectionString: db }); await c.connect();
const show = async (label: string) => {
  const r = await c.query(`select pid, application_name, state, backend_xid::text, backend_xmin::text, now()-xact_start as age, left(query, 60) q from pg_stat_activity where client_port is not null and application_name like 'govcase%' and (backend_xid is not null or state <> 'idle')`);
  console.log(label, JSON.stringify(r.rows));
};
await show('before');
proxy.cut();
await new Promise(r => setTimeout(r, 5000));
proxy.restore();
const sc = new pg.Client({ connectionString: db, options: `-c search_path=${schema}` }); await sc.connect();
for (let i = 0; i < 24; i++) {
  const r = await sc.query(`select c.name, (select count(*) from events e where (e.tx_id, e.position) > (c.tx_id, c.pos))::int as behind from projection_checkpoints c order by name`);
  console.log(`restore+${i*500}`, r.rows.map((x) => `${x.name}:${x.behind}`).join(' '), load.acked());
  await new Promise(r => setTimeout(r, 500));
}
console.log(server.log.filter((l) => /projection|live/.test(l)).join('\n'));
await sc.end();
await load.stop(3000);
await c.end(); await server.dispose(); await proxy.close(); await drop();
