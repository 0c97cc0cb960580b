/**
 * Soak: `npx tsx bench/soak.ts [--minutes 10] [--rate 50] [--open 200] [--url http://host:port --secret S]`.
 * Holds a steady rate of commands (open loop: they are sent on schedule whether or not earlier ones
 * have been answered) that work cases through their lifecycle — submit, accept, three review steps,
 * decide, deliver, rate; `--open` cases at a time, a new one started as one finishes — against `govcase serve` (started here as a child process on a schema of its
 * own, dropped afterwards, unless --url is given), and prints per minute: commands sent and answered,
 * errors, p50/p99 latency, the server's RSS (median of samples every 5 s), heap after a full GC and CPU; then the slope of p99 and RSS per minute (least squares
 * over the minutes after the first) — flat means nothing grows with time. Set --rate to about half of
 * the capacity measured on the same machine (test/reliability figures, bench/api.ts).
 * A figure, not a test: it asserts nothing. `--json` prints one JSON line per minute and a summary.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { processTicks, TICKS_PER_SECOND } from './cpu.ts';
import { makeTokens, post, publishItem, type Tokens } from '../test/reliability/support/load.ts';
import { createServerProcess, procRssMb, RELIABILITY_JWT_SECRET } from '../test/reliability/support/serverProcess.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' }, rate: { type: 'string', default: '50' }, url: { type: 'string' },
    secret: { type: 'string' }, json: { type: 'boolean', default: false }, open: { type: 'string', default: '200' },
  },
});
const minutes = Number(values.minutes);
// cases kept in progress: a new case starts only when one finished, so the work is the same every minute
// (a fixed share of new cases would let the backlog of open cases grow whenever it exceeds 1 in 8)
const openTarget = Number(values.open);
const rate = Number(values.rate);
if (!(minutes > 0) || !(rate > 0) || rate > 5_000) throw new Error('--minutes must be > 0 and --rate between 1 and 5000 commands/s');
const say = (m: string) => process.stderr.write(`[soak] ${m}\n`);

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `bench_soak_${randomUUID().slice(0, 8)}`;
// --expose-gc: at each minute's end a full collection (SIGUSR2) and the heap still used, i.e. retained, not garbage
const server = values.url ? null : createServerProcess({ databaseUrl, schema, env: { LOG_LEVEL: 'warn' }, nodeArgs: ['--expose-gc'] });
const url = values.url ?? (await server!.start());
const tokens: Tokens = await makeTokens(values.secret ?? (values.url ? process.env.JWT_SECRET ?? '' : RELIABILITY_JWT_SECRET));
const itemCode = `SOAK-${randomUUID().slice(0, 8)}`;
const steps = await publishItem(url, tokens, itemCode);

const rssMb = async (): Promise<number | null> => {
  if (server) return procRssMb(server.pid());
  const m = await (await fetch(`${url}/metrics`)).text().catch(() => '');
  const v = /^govcase_process_resident_memory_bytes (\d+)/m.exec(m)?.[1];
  return v ? Math.round(Number(v) / 1_048_576) : null;
};

type Open = { caseId: string; version: number; next: number; busy: boolean };
const PLAN: { mutation: string; type: string; who: keyof Tokens; input: (c: Open) => Record<string, unknown> }[] = [
  { mutation: 'submitCase', type: 'SubmitCaseInput', who: 'applicant', input: (c) => ({ itemCode, caseId: c.caseId, channel: 'PC', applicant: { name: '压测', idType: '111', idNumber: '520102199001011234' }, materials: [{ name: '申请书', provided: true }] }) },
  { mutation: 'acceptCase', type: 'CaseCommandInput', who: 'clerk', input: (c) => ({ caseId: c.caseId, expectedVersion: c.version }) },
  ...steps.map((step) => ({ mutation: 'completeReviewStep', type: 'CompleteReviewStepInput', who: 'reviewer' as const, input: (c: Open) => ({ caseId: c.caseId, step, action: 'PASS', opinion: '同意', expectedVersion: c.version }) })),
  { mutation: 'decideCase', type: 'DecideCaseInput', who: 'reviewer', input: (c) => ({ caseId: c.caseId, outcome: 'APPROVED', expectedVersion: c.version }) },
  { mutation: 'deliverResult', type: 'DeliverResultInput', who: 'clerk', input: (c) => ({ caseId: c.caseId, method: 'WINDOW', expectedVersion: c.version }) },
  { mutation: 'evaluateCase', type: 'EvaluateCaseInput', who: 'applicant', input: (c) => ({ caseId: c.caseId, score: 5 }) },
];

const open: Open[] = [];
let minute = { sent: 0, answered: 0, errors: 0, latencies: [] as number[] };
let inFlight = 0;
let skipped = 0;
const issue = () => {
  if (inFlight >= 2_000) { skipped++; return; }
  const ready = open.length < openTarget ? [] : open.filter((c) => !c.busy);
  const c = ready.length > 0 ? ready[Math.floor(Math.random() * ready.length)]! : { caseId: randomUUID(), version: -1, next: 0, busy: false };
  if (c.next === 0) open.push(c);
  const step = PLAN[c.next]!;
  c.busy = true;
  inFlight++;
  minute.sent++;
  const bucket = minute;
  const t0 = performance.now();
  post(url, `mutation($i: ${step.type}!) { r: ${step.mutation}(input: $i) { version } }`, { i: { ...step.input(c), commandId: randomUUID() } }, tokens[step.who], 60_000)
    .then((r) => {
      bucket.latencies.push(performance.now() - t0);
      bucket.answered++;
      const v = r.body?.data?.r?.version;
      if (r.status === 200 && typeof v === 'number') {
        c.version = v;
        c.next++;
      } else bucket.errors++;
    }, () => { bucket.errors++; })
    .finally(() => {
      inFlight--;
      c.busy = false;
      if (c.next >= PLAN.length) open.splice(open.indexOf(c), 1);
    });
};

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 10) / 10 : 0;
};
const slope = (ys: number[]) => {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => { num += (x - mx) * (y - my); den += (x - mx) ** 2; });
  return Math.round((num / den) * 100) / 100;
};

say(`${minutes} min at ${rate} commands/s against ${url}${server ? ` (govcase serve, schema ${schema})` : ''}`);
const rows: { minute: number; sent: number; answered: number; errors: number; p50Ms: number; p99Ms: number; rssMb: number | null; rssMaxMb: number | null; heapAfterGcMb: number | null; serverCpuPct: number | null }[] = [];
// the server's CPU per minute (a local server only): work per command that grows with time shows here first
let cpuBefore = server ? processTicks([server.pid() ?? 0]) / TICKS_PER_SECOND : null;
// RSS sampled every 5 s, the minute's median reported: one sample a minute catches the garbage
// collector's cycle at a random phase (tens of MB apart) and hides the trend behind it
let rssSamples: number[] = [];
const rssSampler = setInterval(() => void rssMb().then((v) => { if (v !== null) rssSamples.push(v); }, () => {}), 5_000);
const heapAfterGcMb = async (): Promise<number | null> => {
  if (!server?.pid()) return null;
  process.kill(server.pid()!, 'SIGUSR2');
  await new Promise((r) => setTimeout(r, 1_000));
  const m = await fetch(`${url}/metrics`).then((r) => r.text(), () => '');
  const v = /^govcase_nodejs_heap_size_used_bytes (\d+)/m.exec(m)?.[1];
  return v ? Math.round(Number(v) / 1_048_576) : null;
};
const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : null);
const rssStart = await rssMb();
const perTick = rate / 10;
let carry = 0;
const ticker = setInterval(() => {
  carry += perTick;
  while (carry >= 1) { issue(); carry--; }
}, 100);
for (let m = 1; m <= minutes; m++) {
  await new Promise((r) => setTimeout(r, 60_000));
  const done = minute;
  minute = { sent: 0, answered: 0, errors: 0, latencies: [] };
  const cpuNow = server ? processTicks([server.pid() ?? 0]) / TICKS_PER_SECOND : null;
  const serverCpuPct = cpuNow !== null && cpuBefore !== null ? Math.round((cpuNow - cpuBefore) / 60 * 1000) / 10 : null;
  cpuBefore = cpuNow;
  const row = { minute: m, sent: done.sent, answered: done.answered, errors: done.errors, p50Ms: pct(done.latencies, 0.5), p99Ms: pct(done.latencies, 0.99), rssMb: median(rssSamples) ?? await rssMb(), rssMaxMb: rssSamples.length ? Math.max(...rssSamples) : null, heapAfterGcMb: await heapAfterGcMb(), serverCpuPct };
  rssSamples = [];
  rows.push(row);
  if (values.json) process.stdout.write(`${JSON.stringify({ kind: 'soak-minute', rate, ...row })}\n`);
  else say(`minute ${m}: sent ${row.sent}, answered ${row.answered}, errors ${row.errors}, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, RSS ${row.rssMb} MB (median; max ${row.rssMaxMb ?? '?'}), heap after a full GC ${row.heapAfterGcMb ?? '?'} MB, server CPU ${row.serverCpuPct ?? '?'} %`);
}
clearInterval(ticker);
clearInterval(rssSampler);
const settle = Date.now();
while (inFlight > 0 && Date.now() - settle < 60_000) await new Promise((r) => setTimeout(r, 100));
const steady = rows.length > 2 ? rows.slice(1) : rows; // the first minute includes warm-up
const summary = {
  kind: 'soak-summary', minutes, rate, commands: rows.reduce((a, r) => a + r.sent, 0), errors: rows.reduce((a, r) => a + r.errors, 0), skippedOverload: skipped,
  p50StartMs: rows[0]?.p50Ms, p50EndMs: rows.at(-1)?.p50Ms, p99StartMs: rows[0]?.p99Ms, p99EndMs: rows.at(-1)?.p99Ms,
  rssStartMb: rssStart, rssEndMb: rows.at(-1)?.rssMb ?? null,
  p99SlopeMsPerMin: slope(steady.map((r) => r.p99Ms)), rssSlopeMbPerMin: slope(steady.map((r) => r.rssMb ?? 0)),
  heapAfterGcSlopeMbPerMin: slope(steady.map((r) => r.heapAfterGcMb ?? 0)),
};
if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
else console.table(rows);
say(`p50 ${summary.p50StartMs} → ${summary.p50EndMs} ms, p99 ${summary.p99StartMs} → ${summary.p99EndMs} ms (slope ${summary.p99SlopeMsPerMin} ms/min), RSS ${summary.rssStartMb} → ${summary.rssEndMb} MB (slope ${summary.rssSlopeMbPerMin} MB/min), heap after GC slope ${summary.heapAfterGcSlopeMbPerMin} MB/min, ${summary.errors} errors in ${summary.commands} commands`);
if (server) {
  await server.terminate();
  await server.dispose();
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  await c.query(`drop schema if exists ${schema} cascade`);
  await c.end();
}
