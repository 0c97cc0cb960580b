import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { makeTokens, post, publishItem, startLoad, type Tokens } from './support/load.ts';
import { createServerProcess, RELIABILITY_JWT_SECRET, type ServerProcess } from './support/serverProcess.ts';
import { report, sleep } from './support/scenarios.ts';
import { adminPool, checkStore, compareProjectionsWithRebuild, freshSchema, waitForProjections } from './support/verify.ts';

/**
 * SIGTERM: the server stops accepting, answers what it is already working on (commands, a
 * read-your-writes wait that takes seconds, an open subscription is closed cleanly), lets the
 * projection runner finish its batch, closes its pools and exits 0 within its bound (15 s).
 */
describe('graceful shutdown on SIGTERM', () => {
  const databaseUrl = inject('databaseUrl');
  let schema: Awaited<ReturnType<typeof freshSchema>>;
  let server: ServerProcess;
  let tokens: Tokens;
  let itemCode: string;
  let steps: string[];

  beforeAll(async () => {
    schema = await freshSchema(databaseUrl, 'shutdown');
    server = createServerProcess({ databaseUrl, schema: schema.schema });
    await server.start();
    tokens = await makeTokens(RELIABILITY_JWT_SECRET);
    itemCode = `REL-${randomUUID().slice(0, 8)}`;
    steps = await publishItem(server.url(), tokens, itemCode);
  });
  afterAll(async () => {
    await server?.dispose();
    await schema?.drop();
  });

  it('answers in-flight requests, exits 0 in time, and loses nothing', async () => {
    const load = startLoad({ url: server.url, tokens, itemCode, steps, workers: 6 });
    await sleep(2_000);
    const url = server.url();
    // a request that takes seconds: read-your-writes on a version that will not come (bounded at 5 s)
    const submitted = await post(url, `mutation($i: SubmitCaseInput!) { submitCase(input: $i) { caseId version } }`, {
      i: { itemCode, channel: 'PC', commandId: randomUUID(), applicant: { name: '甲', idType: '111', idNumber: '520102199001011234' }, materials: [{ name: '申请书', provided: true }] },
    }, tokens.applicant);
    const caseId = submitted.body!.data!.submitCase.caseId as string;
    const slow = post(url, `query($id: ID!) { case(id: $id, atLeastVersion: 99) { version } }`, { id: caseId }, tokens.clerk)
      .then((r) => ({ status: r.status, code: r.body?.errors?.[0]?.extensions?.code ?? null }), (err: Error) => ({ status: 0, code: (err.cause as { code?: string } | undefined)?.code ?? err.message }));
    // an open subscription
    const ws = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const wsClosed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${tokens.clerk}` } })));
      ws.on('message', (raw) => {
        const msg = JSON.parse(String(raw)) as { type: string };
        if (msg.type === 'connection_ack') {
          ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { caseEvents { streamId } }' } }));
          resolve();
        }
      });
    });
    await sleep(300);
    const exit = await server.terminate(20_000);
    const slowAnswer = await slow;
    const wsCode = await Promise.race([wsClosed, sleep(5_000).then(() => -1)]);
    await load.stop(5_000);
    const afterStop = load.failures.filter((f) => f.at >= Date.now() - exit.ms - 10_000);
    // the load's view: every acknowledged command is in the store; the projections caught up before the exit
    const pool = adminPool(databaseUrl, schema.schema);
    try {
      const checkpointsAtExit = (await pool.query(`select count(*)::int as n from projection_checkpoints c
         where exists (select 1 from events e where (e.tx_id, e.position) > (c.tx_id, c.pos)) and c.name not like '%@%'`)).rows[0].n as number;
      const store = await checkStore(pool, load.acks);
      // start again: the restarted server carries on from where the stopped one was
      await server.start();
      expect(await waitForProjections(pool)).toBe(true);
      const second = await server.terminate(20_000);
      const projections = await compareProjectionsWithRebuild(databaseUrl, schema.schema);
      report('shutdown', {
        exitCode: exit.code, exitSignal: exit.signal, shutdownMs: exit.ms, slowRequest: slowAnswer, subscriptionCloseCode: wsCode,
        attempted: load.stats.attempted, acknowledged: load.stats.acknowledged, lost: store.lost.length,
        failuresAroundStop: afterStop.map((f) => f.code).reduce<Record<string, number>>((a, c) => ({ ...a, [c]: (a[c] ?? 0) + 1 }), {}),
        projectionsBehindAtExit: checkpointsAtExit, secondExit: second,
      });
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.ms).toBeLessThan(15_000);
      expect(second).toMatchObject({ code: 0 });
      expect(slowAnswer.status).toBe(200);
      expect(wsCode).not.toBe(-1);
      expect(store.lost).toEqual([]);
      expect(store.partial).toEqual([]);
      expect(projections.differing).toEqual([]);
      expect(server.log.filter((l) => /shutdown took longer|error/i.test(l))).toEqual([]);
    } finally {
      await pool.end();
    }
  }, 120_000);
});
