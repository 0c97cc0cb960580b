import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../application/ports.ts';
import type { EventStore } from '../../application/eventStore.ts';
import { eventHash } from '../../domain/integrity.ts';
import { buildCheckpoint, CHECKPOINT_STREAM, type Checkpoint, type StreamHeadEntry } from '../../domain/integrity/checkpoint.ts';
import { createIntegrity, type Integrity } from '../../infrastructure/integrity/index.ts';
import { generateSigningKey, sm2Signer } from '../../infrastructure/integrity/sm2.ts';
import { createTestDatabase } from '../support/db.ts';
import { untilVisible } from './visible.ts';

/**
 * The tamper matrix (issue #5): each tampering done as a database superuser with the events table's
 * triggers disabled, in a schema of its own, and each found by verification with the right stream
 * and revision against the signed checkpoints.
 * Every scenario: streams case-a, case-b, case-c with 3 events, checkpoint 1, 2 more events each,
 * checkpoint 2 — so case-b's revisions 2 and 4 are anchored by a signed checkpoint.
 */
const KEY = generateSigningKey();
const meta = (n: number) => ({ actorId: 'clerk-1', actorRole: 'clerk', departmentCode: 'GY-MARKET', reason: `step ${n}`, occurredAt: new Date().toISOString() });

type Db = Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

const appendSteps = async (store: EventStore, from: number, to: number) => {
  for (let r = from; r < to; r++)
    for (const s of ['case-a', 'case-b', 'case-c'])
      await store.appendToStream(s, [{ type: 'StepDone', data: { stream: s, step: r, note: `step ${r} of ${s}` }, metadata: meta(r) }], { expectedVersion: r === 0 ? 'no_stream' : r - 1 });
};

const setUp = async (label: string) => {
  db = await createTestDatabase(`tamper_${label}`);
  const store = db.newStore();
  const integrity = createIntegrity({ pool: db.pool, store, signingKey: KEY, clock: systemClock });
  await appendSteps(store, 0, 3);
  await untilVisible(store, db.pool);
  await integrity.checkpointer.create();
  await appendSteps(store, 3, 5);
  await untilVisible(store, db.pool);
  await integrity.checkpointer.create();
  const clean = await integrity.verify();
  expect(clean.problems).toEqual([]);
  expect(clean.ok).toBe(true);
  expect(clean.checkpoint?.sequence).toBe(2);
  expect(clean.eventsChecked).toBe(15 + 2);
  return { store, integrity, db: db! };
};

/** Runs SQL as the superuser with every trigger of the events table off (the append-only guard too). */
const tamper = async (d: Db, fn: (c: pg.Client) => Promise<void>) => {
  const c = new pg.Client({ connectionString: d.connectionString });
  await c.connect();
  try {
    await c.query(`set search_path to ${d.schema}`);
    await c.query('alter table events disable trigger all');
    await fn(c);
    await c.query('alter table events enable trigger all');
  } finally {
    await c.end();
  }
};

/** Recomputes the hash (and the following ones) of a stream from `fromRevision`, as an attacker would. */
const rechain = async (c: pg.Client, streamId: string, fromRevision: number) => {
  const rows = (await c.query<{ revision: string; type: string; data: unknown; metadata: unknown; hash: string }>(
    'select revision, type, data, metadata, hash from events where stream_id = $1 order by revision', [streamId])).rows;
  let prev: string | null = null;
  for (const r of rows) {
    const revision = Number(r.revision);
    if (revision >= fromRevision) {
      const hash = eventHash(prev, { streamId, revision, type: r.type, data: r.data, metadata: r.metadata });
      await c.query('update events set hash = $1, previous_hash = $2 where stream_id = $3 and revision = $4', [hash, prev, streamId, revision]);
      prev = hash;
    } else prev = r.hash;
  }
};

const first = async (integrity: Integrity) => {
  const report = await integrity.verify();
  expect(report.ok).toBe(false);
  return report;
};
const summary = (p: { kind: string; streamId: string | null; revision: number | null }) => [p.kind, p.streamId, p.revision];

describe('tamper matrix: verification finds each tampering, with the stream and revision', () => {
  it('one byte of an event\'s data changed: HASH_MISMATCH at that revision', async () => {
    const { integrity, db } = await setUp('data');
    await tamper(db, (c) => c.query(`update events set data = jsonb_set(data, '{note}', '"step 3 of case-c"') where stream_id = 'case-b' and revision = 3`).then(() => {}));
    const r = await first(integrity);
    expect(r.problems.map(summary)).toEqual([['HASH_MISMATCH', 'case-b', 3]]);
    expect([r.brokenStreamId, r.brokenRevision]).toEqual(['case-b', 3]);
  });

  it('its metadata changed: HASH_MISMATCH at that revision', async () => {
    const { integrity, db } = await setUp('meta');
    await tamper(db, (c) => c.query(`update events set metadata = jsonb_set(metadata, '{actorId}', '"clerk-2"') where stream_id = 'case-b' and revision = 1`).then(() => {}));
    expect((await first(integrity)).problems.map(summary)).toEqual([['HASH_MISMATCH', 'case-b', 1]]);
  });

  it('an event changed and its hash and every later hash recomputed: REWRITTEN from the revision after the last one a checkpoint vouches for', async () => {
    const { integrity, db } = await setUp('rechain');
    await tamper(db, async (c) => {
      await c.query(`update events set data = jsonb_set(data, '{note}', '"forged"') where stream_id = 'case-b' and revision = 3`);
      await rechain(c, 'case-b', 3);
    });
    const r = await first(integrity);
    expect(r.problems.map(summary)).toEqual([['REWRITTEN', 'case-b', 3]]);
    // the chain alone no longer shows it: only the signed checkpoint does
    expect(r.problems[0]!.detail).toMatch(/recomputed/);
  });

  it('two events swapped: the first revision out of place', async () => {
    const { integrity, db } = await setUp('swap');
    await tamper(db, async (c) => {
      await c.query(`update events set revision = -1 where stream_id = 'case-b' and revision = 1`);
      await c.query(`update events set revision = 1 where stream_id = 'case-b' and revision = 2`);
      await c.query(`update events set revision = 2 where stream_id = 'case-b' and revision = -1`);
    });
    expect((await first(integrity)).problems.map(summary)).toEqual([['CHAIN_BROKEN', 'case-b', 1]]);
  });

  it('the last event of a stream deleted: MISSING_EVENTS at its revision', async () => {
    const { integrity, db } = await setUp('last');
    await tamper(db, (c) => c.query(`delete from events where stream_id = 'case-b' and revision = 4`).then(() => {}));
    expect((await first(integrity)).problems.map(summary)).toEqual([['MISSING_EVENTS', 'case-b', 4]]);
  });

  it('a middle event deleted: REVISION_GAP at its revision', async () => {
    const { integrity, db } = await setUp('middle');
    await tamper(db, (c) => c.query(`delete from events where stream_id = 'case-b' and revision = 2`).then(() => {}));
    expect((await first(integrity)).problems.map(summary)).toEqual([['REVISION_GAP', 'case-b', 2]]);
  });

  it('a whole stream deleted: MISSING_STREAM', async () => {
    const { integrity, db } = await setUp('stream');
    await tamper(db, async (c) => {
      await c.query(`delete from events where stream_id = 'case-b'`);
      await c.query(`delete from streams where stream_id = 'case-b'`);
    });
    expect((await first(integrity)).problems.map(summary)).toEqual([['MISSING_STREAM', 'case-b', 0]]);
  });

  it('a forged event inserted with a correct hash, dated inside the checkpoint: INSERTED', async () => {
    const { integrity, db } = await setUp('forged');
    await tamper(db, async (c) => {
      const head = (await c.query<{ hash: string; tx: string }>(`select hash, tx_id::text as tx from events where stream_id = 'case-b' and revision = 4`)).rows[0]!;
      const e = { streamId: 'case-b', revision: 5, type: 'StepDone', data: { stream: 'case-b', step: 5, note: 'forged' }, metadata: meta(5) };
      await c.query(
        `insert into events (tx_id, stream_id, revision, event_id, type, data, metadata, hash, previous_hash)
         values ($1::xid8, $2, $3, gen_random_uuid(), $4, $5, $6, $7, $8)`,
        [head.tx, e.streamId, e.revision, e.type, e.data, e.metadata, eventHash(head.hash, e), head.hash]);
    });
    expect((await first(integrity)).problems.map(summary)).toEqual([['INSERTED', 'case-b', 5]]);
  });

  it('the latest checkpoint replaced by one signed with another key: BAD_SIGNATURE, and the log is checked against the one before', async () => {
    const { integrity, db, store } = await setUp('resign');
    const [cp1, cp2] = (await store.readStream(CHECKPOINT_STREAM)).map((e) => e.data as Checkpoint);
    // the attacker deletes case-c's last events and signs a checkpoint saying that is how it was
    await tamper(db, async (c) => {
      await c.query(`delete from events where stream_id = 'case-c' and revision >= 3`);
      const heads = new Map<string, StreamHeadEntry>();
      for (const r of (await c.query<{ stream_id: string; revision: string; hash: string }>(
        `select distinct on (stream_id) stream_id, revision, hash from events where stream_id <> $1 order by stream_id, revision desc`, [CHECKPOINT_STREAM])).rows)
        heads.set(r.stream_id, { streamId: r.stream_id, revision: Number(r.revision), hash: r.hash });
      const before = new Map(cp1!.changes.map((h) => [h.streamId, h] as const));
      const forged = buildCheckpoint({ previous: cp1!, previousHeads: before, heads, position: cp2!.position, createdAt: cp2!.createdAt, signer: sm2Signer(generateSigningKey()) });
      await c.query(`update events set data = $1 where stream_id = $2 and revision = 1`, [forged, CHECKPOINT_STREAM]);
      await rechain(c, CHECKPOINT_STREAM, 1);
    });
    const r = await first(integrity);
    expect(r.problems.map((p) => [p.kind, p.sequence])).toEqual([['BAD_SIGNATURE', 2]]);
    expect(r.checkpoint?.sequence).toBe(1);
    // and with the exported series kept outside the database, the deletion itself is found
    const withCopy = await integrity.verify({ checkpoints: [cp1, cp2] });
    expect(withCopy.problems.map(summary)).toEqual([['BROKEN_CHECKPOINT_CHAIN', CHECKPOINT_STREAM, 1], ['MISSING_EVENTS', 'case-c', 3]]);
  });
});

describe('checkpoints in the log', () => {
  it('a checkpoint records the heads at its position; a periodic one is skipped when nothing moved; a one-stream check', async () => {
    db = await createTestDatabase('tamper_cp');
    const store = db.newStore();
    const integrity = createIntegrity({ pool: db.pool, store, signingKey: KEY, clock: systemClock });
    const empty = await integrity.checkpointer.create();
    expect(empty?.streams).toBe(0);
    await appendSteps(store, 0, 2);
    await untilVisible(store, db.pool);
    const cp = (await integrity.checkpointer.create({ onlyIfMoved: true }))!;
    expect(cp.sequence).toBe(2);
    expect(cp.streams).toBe(3);
    expect(cp.changes.map((h) => [h.streamId, h.revision])).toEqual([['case-a', 1], ['case-b', 1], ['case-c', 1]]);
    expect(await integrity.checkpointer.create({ onlyIfMoved: true })).toBeNull();
    // another process (no cached heads) continues the series from the log
    const other = createIntegrity({ pool: db.pool, store: db.newStore(), signingKey: KEY, clock: systemClock });
    await appendSteps(store, 2, 3);
    await untilVisible(store, db.pool);
    const next = (await other.checkpointer.create({ onlyIfMoved: true }))!;
    expect(next.sequence).toBe(3);
    expect(next.changes).toHaveLength(3);
    const one = await integrity.verify({ streamId: 'case-a' });
    expect([one.ok, one.streamsChecked, one.eventsChecked]).toEqual([true, 1, 3]);
    // a server with another key refuses to sign on top of checkpoints it cannot vouch for
    const stranger = createIntegrity({ pool: db.pool, store: db.newStore(), signingKey: generateSigningKey(), clock: systemClock });
    await expect(stranger.checkpointer.create()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('every few checkpoints a full one: verification reads from the second-newest full one on', async () => {
    db = await createTestDatabase('tamper_full');
    const store = db.newStore();
    const integrity = createIntegrity({ pool: db.pool, store, signingKey: KEY, clock: systemClock, fullEvery: 3 });
    for (let i = 0; i < 8; i++) {
      await store.appendToStream(`case-f${i}`, [{ type: 'Noted', data: { i }, metadata: meta(i) }], { expectedVersion: 'no_stream' });
      await untilVisible(store, db!.pool);
      await integrity.checkpointer.create();
    }
    const all = (await store.readStream(CHECKPOINT_STREAM)).map((e) => e.data as Checkpoint);
    expect(all.map((c) => c.full)).toEqual([true, false, false, true, false, false, true, false]);
    expect(all[6]!.changes).toHaveLength(7);
    const report = await integrity.verify();
    expect(report.problems).toEqual([]);
    expect([report.checkpointsRead, report.checkpoint?.sequence, report.checkpoint?.streams]).toEqual([5, 8, 8]);
    // a deletion before the newest full checkpoint is still found: the full one records every head
    await tamper(db, (c) => c.query(`delete from events where stream_id = 'case-f0'`).then(() => {}));
    expect((await integrity.verify()).problems.map(summary)).toEqual([['MISSING_STREAM', 'case-f0', 0]]);
  });

  it('the stored heads (integrity_heads) are not trusted: wrong or missing rows are taken from the log again; a log that no longer gives the signed root is refused', async () => {
    const { store, integrity, db: d } = await setUp('heads');
    const rows = async () => (await d.pool.query<{ stream_id: string; revision: string }>(`select stream_id, revision from ${d.schema}.integrity_heads order by stream_id`)).rows
      .map((r) => [r.stream_id, Number(r.revision)]);
    expect(await rows()).toEqual([['case-a', 4], ['case-b', 4], ['case-c', 4]]);
    // a crash between a checkpoint's append and the heads' commit leaves older heads; a lost row likewise
    await d.pool.query(`update ${d.schema}.integrity_heads set revision = 2 where stream_id = 'case-a'`);
    await d.pool.query(`delete from ${d.schema}.integrity_heads where stream_id = 'case-c'`);
    await appendSteps(store, 5, 6);
    await untilVisible(store, d.pool);
    const third = (await integrity.checkpointer.create({ onlyIfMoved: true }))!;
    expect([third.sequence, third.streams, third.changes.map((h) => h.revision)]).toEqual([3, 3, [5, 5, 5]]);
    expect(await rows()).toEqual([['case-a', 5], ['case-b', 5], ['case-c', 5]]);
    expect((await integrity.verify()).ok).toBe(true);
    // an attacker rewrites case-b's last event and the stored head to match: the log no longer gives checkpoint 3's root
    await tamper(d, async (c) => {
      await c.query(`update events set data = '{"forged":true}' where stream_id = 'case-b' and revision = 5`);
      await rechain(c, 'case-b', 5);
      await c.query(`update integrity_heads set hash = (select hash from events where stream_id = 'case-b' and revision = 5) where stream_id = 'case-b'`);
    });
    await store.appendToStream('case-d', [{ type: 'StepDone', data: { step: 0 }, metadata: meta(0) }], { expectedVersion: 'no_stream' });
    await untilVisible(store, d.pool);
    await expect(integrity.checkpointer.create({ onlyIfMoved: true })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect((await store.readStream(CHECKPOINT_STREAM)).length).toBe(3);
  });

  it('stream ids beyond U+FFFF, where PostgreSQL and JavaScript order differ: the root is still the one verification computes', async () => {
    db = await createTestDatabase('tamper_astral');
    const store = db.newStore();
    const integrity = createIntegrity({ pool: db.pool, store, signingKey: KEY, clock: systemClock });
    // UTF-16 puts U+1F600 (a surrogate pair, 0xD83D…) before U+FF5E; code point order after it
    for (const [i, s] of ['case-\u{FF5E}', 'case-\u{1F600}', 'case-a'].entries()) {
      await store.appendToStream(s, [{ type: 'Noted', data: { i }, metadata: meta(i) }], { expectedVersion: 'no_stream' });
      await untilVisible(store, db.pool);
      await integrity.checkpointer.create();
    }
    const report = await integrity.verify();
    expect(report.problems).toEqual([]);
    expect([report.checkpoint?.sequence, report.checkpoint?.streams]).toEqual([3, 3]);
  });
});
