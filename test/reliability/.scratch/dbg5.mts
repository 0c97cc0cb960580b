import { createServerProcess, RELIABILITY_JWT_SECRET } from '../support/serverProcess.ts';
import { freshSchema } from '../support/verify.ts';
import { makeTokens, post } from '../support/load.ts';
const db = 'postgres://postgres@127.0.0.1:5432/test';
const { schema, drop } = await freshSchema(db, 'dbg');
const server = createServerProcess({ databaseUrl: db, schema });
await server.start();
const t = await makeTokens(RELIABILITY_JWT_SECRET);
for (const v of ['%22not+an+object%22', '1', '%5B%5D', 'null', '%22%22']) { const r = await fetch(`${server.url()}/graphql?query=${encodeURIComponent('{ me { id } }')}&variables=${v}`, { headers: { authorization: `Bearer ${t.admin}` } }); console.log(v, r.status, (await r.text()).slice(0, 200)); }
const r2 = await post(server.url(), '{ me { id } }', 'str' as never, t.admin); console.log('POST str', r2.status, JSON.stringify(r2.body).slice(0, 200));
await new Promise(r => setTimeout(r, 300));
for (const l of server.log.filter(l => /internal error/.test(l))) { try { const j = JSON.parse(l); console.log('LOG', j.err?.type, j.err?.message?.slice(0, 200), (j.err?.stack ?? '').split('\n').slice(1, 4).join(' | ')); } catch { console.log(l.slice(0, 300)); } }
await server.dispose(); await drop();
