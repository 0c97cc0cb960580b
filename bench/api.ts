/**
 * API load: `npx tsx bench/api.ts [--seconds 10]`. Starts `govcase serve` as a separate process on a
 * schema of its own (rate limits off), then with autocannon:
 * 1. submitCase mutations at 32 connections; 2. acceptCase on the submitted cases, oldest first, at 32
 * connections; 3. a `cases` query (first: 20, a clerk's department, with totalCount) at 64 connections;
 * 4. `case(id)` at 64; 5. the `cases` page without totalCount at 64;
 * and after each: the server's RSS; CPU per request of the server, the local PostgreSQL and autocannon
 * itself (steadier than requests/s on a shared machine; autocannon's own figure shows how fast the
 * machine ran); the cores left idle; and the write side's case-cache hits and misses (acceptCase hits
 * only while the cases submitted in phase 1 fit in CASE_CACHE_SIZE: oldest first, an LRU that is too
 * small misses every one). `--only submitCase,acceptCase` runs just those phases. Prints a table;
 * `--json` prints one line per measurement.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { signToken } from '../graphql/auth.ts';
import { cpuBetween, processTicks, sampleLoad, TICKS_PER_SECOND, type LoadSample } from './cpu.ts';

const PHASES = ['submitCase', 'acceptCase', 'casesQuery', 'caseById', 'casesPage'] as const;
const { values } = parseArgs({ options: {
  seconds: { type: 'string', default: '10' }, json: { type: 'boolean', default: false },
  // --only submitCase,acceptCase: run (and report) just these phases; submitCase always runs, since the
  // others need its cases
  only: { type: 'string', default: PHASES.join(',') },
} });
const only = new Set(values.only.split(',').map((s) => s.trim()).filter(Boolean));
for (const p of only) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--only: unknown phase ${p} (phases: ${PHASES.join(', ')})`);
const wanted = (p: (typeof PHASES)[number]) => only.has(p);
const seconds = Number(values.seconds);
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = 'bench_api';
const port = 4700 + Math.floor(Math.random() * 200);
const secret = 'bench-secret-bench-secret-bench-secret-0123';
const say = (m: string) => process.stderr.write(`[bench api] ${m}\n`);

const admin = async (sql: string) => {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try { await c.query(sql); } finally { await c.end(); }
};

await admin(`drop schema if exists ${schema} cascade`);
// BENCH_SERVER_NODE_ARGS: node flags for the server only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
const serverNodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const server = spawn(process.execPath, [...serverNodeArgs, 'bin/govcase.js', 'serve'], {
  env: { ...process.env, DATABASE_URL: url, DATABASE_SCHEMA: schema, PORT: String(port), JWT_SECRET: secret, RATE_LIMIT_MAX: '0', LOG_LEVEL: 'warn', DEADLINE_CLOCK: 'off', NODE_ENV: 'production', GOVCASE_MASTER_KEY: '00112233445566778899aabbccddeeff', GOVCASE_SIGNING_KEY: '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988' },
  stdio: ['ignore', 'ignore', 'pipe'],
});
server.stderr.on('data', (d) => { if (/error|invalid|govcase:/i.test(String(d))) process.stderr.write(d); });
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  try { if ((await fetch(`${base}/readyz`)).ok) break; } catch { /* starting */ }
  if (i > 100) throw new Error('server did not start');
  await new Promise((r) => setTimeout(r, 200));
}
const metric = async (re: RegExp) => Number(re.exec(await (await fetch(`${base}/metrics`)).text())?.[1] ?? 0);
const rss = async () => (await metric(/^govcase_process_resident_memory_bytes (\d+)/m)) / 1_048_576;
// commands that found their case in the write side's memory (application/caseCache.ts) or read its stream
const cacheLookups = async () => ({
  hits: await metric(/^govcase_case_cache_lookups\{result="hit"\} (\d+)/m),
  misses: await metric(/^govcase_case_cache_lookups\{result="miss"\} (\d+)/m),
});
const DEPT = '520102-SCJG';
const tokens = {
  admin: await signToken(secret, { sub: 'admin', roles: ['admin'] }, '2h'),
  applicant: await signToken(secret, { sub: 'citizen', roles: ['applicant'] }, '2h'),
  clerk: await signToken(secret, { sub: 'clerk', roles: ['clerk'], dept: DEPT, region: '520102' }, '2h'),
};
const gql = async (query: string, variables: unknown, token: string) =>
  (await (await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) })).json()) as { data?: any; errors?: unknown };
const item = await gql(`mutation($i: ServiceItemInput!) { publishServiceItem(input: $i) { itemCode } }`, { i: {
  itemCode: 'BENCH01', name: '食品经营许可', itemType: '01', departmentCode: DEPT, departmentName: '南明区市场监督管理局', regionCode: '520102',
  caseType: 'PROMISED', legalLimitDays: 20, promisedLimitDays: 10, materials: [{ name: '申请书', provided: true }] } }, tokens.admin);
if (item.errors) throw new Error(JSON.stringify(item.errors));

const caseIds: string[] = [];
const submitBody = () => JSON.stringify({
  query: 'mutation($i: SubmitCaseInput!) { submitCase(input: $i) { caseId version } }',
  variables: { i: { itemCode: 'BENCH01', channel: 'PC', caseId: randomUUID(), commandId: randomUUID(),
    applicant: { name: '压测申请人', idType: '111', idNumber: '520102199001011234', phone: '13900000000' }, materials: [{ name: '申请书', provided: true }] } },
});
const run = async (title: string, connections: number, token: string, body: () => string, onBody?: (b: string) => void) => {
  const w = { ...windowStart(), cache: await cacheLookups() };
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const inst = autocannon({
      url: `${base}/graphql`, connections, duration: seconds, method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      requests: [{ setupRequest: (req) => ({ ...req, body: body() }), onResponse: (_s, b) => onBody?.(String(b)) }],
    }, (err, res) => (err ? reject(err) : resolve(res)));
    void title;
    void inst;
  });
  return { r, w };
};

// CPU per request, which the machine's other load hardly moves (throughput does): the server process,
// the local PostgreSQL (all its processes), and this process (autocannon), in µs per answered request
interface Window { readonly load: LoadSample; readonly serverTicks: number; readonly cache?: { hits: number; misses: number } }
const windowStart = (): Window => ({ load: sampleLoad(), serverTicks: processTicks([server.pid ?? 0]) });
const cpuPerRequest = (w: Window, requests: number) => {
  const end = windowStart();
  const secs = (end.load.at - w.load.at) / 1000;
  const cpu = cpuBetween(w.load, end.load);
  const serverCores = (end.serverTicks - w.serverTicks) / TICKS_PER_SECOND / secs;
  const per = (cores: number) => (requests > 0 ? Math.round((cores * secs * 1e6) / requests) : null);
  return { serverUsPerReq: per(serverCores), postgresUsPerReq: per(cpu.postgres), benchUsPerReq: per(cpu.client), idleCores: Math.max(0, Math.round((cpus().length - cpu.machine) * 100) / 100) };
};
const results: { bench: string; connections: number; requestsPerSec: number; p50: number; p99: number; non2xx: number; errors: number; rssMb: number; serverUsPerReq: number | null; postgresUsPerReq: number | null; benchUsPerReq: number | null; idleCores: number; cacheHits: number; cacheMisses: number }[] = [];
const record = async (bench: string, connections: number, measured: { r: autocannon.Result; w: Window }) => {
  const { r, w } = measured;
  const cpu = cpuPerRequest(w, r.requests.total);
  const lookups = await cacheLookups();
  const cacheHits = lookups.hits - (w.cache?.hits ?? 0), cacheMisses = lookups.misses - (w.cache?.misses ?? 0);
  if (!wanted(bench as (typeof PHASES)[number])) return;
  results.push({ bench, connections, requestsPerSec: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, rssMb: Math.round(await rss()), ...cpu, cacheHits, cacheMisses });
  say(`${bench}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}; CPU µs/request: server ${cpu.serverUsPerReq}, postgres ${cpu.postgresUsPerReq}, autocannon ${cpu.benchUsPerReq}; idle cores ${cpu.idleCores}; case cache ${cacheHits} hits, ${cacheMisses} misses`);
};
let graphqlErrors = 0;
say('warm-up');
await run('warm', 8, tokens.applicant, submitBody);
say('submitCase × 32');
await record('submitCase', 32, await run('submit', 32, tokens.applicant, submitBody, (b) => {
  const m = /"caseId":"([0-9a-f-]{36})"/.exec(b);
  if (m) caseIds.push(m[1]!); else graphqlErrors++;
}));
let next = 0;
if (wanted('acceptCase')) {
say(`acceptCase × 32 over ${caseIds.length} submitted cases`);
await record('acceptCase', 32, await run('accept', 32, tokens.clerk, () => JSON.stringify({
  query: 'mutation($i: CaseCommandInput!) { acceptCase(input: $i) { version } }',
  variables: { i: { caseId: caseIds[next++ % caseIds.length], commandId: randomUUID() } },
}), (b) => { if (b.includes('"errors"') && !b.includes('INVALID_TRANSITION')) graphqlErrors++; }));
}
if (wanted('casesQuery')) {
say('cases query × 64');
await record('casesQuery', 64, await run('cases', 64, tokens.clerk, () => JSON.stringify({
  query: '{ cases(first: 20) { totalCount edges { node { caseNumber status deadline alertLevel } } } }',
}), (b) => { if (b.includes('"errors"')) graphqlErrors++; }));
}
if (wanted('caseById')) {
say('case(id) query × 64');
let pick = 0;
await record('caseById', 64, await run('case', 64, tokens.clerk, () => JSON.stringify({
  query: 'query($id: ID!) { case(id: $id) { caseNumber status deadline alertLevel remainingWorkingDays } }',
  variables: { id: caseIds[pick++ % caseIds.length] },
}), (b) => { if (b.includes('"errors"')) graphqlErrors++; }));
}
if (wanted('casesPage')) {
say('cases query without totalCount × 64');
await record('casesPage', 64, await run('casesPage', 64, tokens.clerk, () => JSON.stringify({
  query: '{ cases(first: 20) { edges { node { caseNumber status deadline alertLevel } } } }',
}), (b) => { if (b.includes('"errors"')) graphqlErrors++; }));
}

server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
await admin(`drop schema if exists ${schema} cascade`);
if (values.json) for (const r of results) process.stdout.write(`${JSON.stringify({ kind: 'api', ...r })}\n`);
else console.table(results);
say(`GraphQL errors in responses (other than the expected INVALID_TRANSITION on re-accepts): ${graphqlErrors}`);
