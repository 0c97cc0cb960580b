import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore, EventStoreAdapter, NewEvent, RecordedEvent } from '../../application/eventStore.ts';
import { exportLog, importLog } from '../../application/exportLog.ts';
import { eventHash } from '../../domain/integrity.ts';
import { CHECKPOINT_STREAM } from '../../domain/integrity/checkpoint.ts';
import { getPostgresEventStoreAdapter } from '../../infrastructure/postgres/eventStore.ts';
import { createTestDatabase } from '../support/db.ts';

/** PostgreSQL → NDJSON → PostgreSQL (another schema): every event equal, every chain verifying. */
type Db = Awaited<ReturnType<typeof createTestDatabase>>;

const ev = (type: string, data: unknown, commandId?: string): NewEvent => ({
  type,
  data,
  metadata: { actorId: 'clerk-1', actorRole: 'clerk', occurredAt: new Date().toISOString(), ...(commandId ? { commandId, correlationId: commandId } : {}) },
});

const readEverything = async (store: Pick<EventStore, 'readAll'>) => {
  const all: RecordedEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await store.readAll({ after, limit: 1_000 });
    all.push(...page.events);
    after = page.lastPosition;
    if (!page.hasMore) return all;
  }
};

/**
 * The PostgreSQL log shows a commit once every older transaction in the cluster has ended (its
 * gap-free order, docs/event-store.md); other work on the same server can hold that back briefly.
 * Wait until all `n` events are visible before comparing.
 */
const settled = async (store: Pick<EventStore, 'readAll'>, n: number) => {
  for (let i = 0; ; i++) {
    const all = await readEverything(store);
    if (all.length >= n || i >= 300) return all;
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** What a store-to-store move must keep (positions and recordedAt are the target's own). */
const kept = (e: RecordedEvent) => ({ id: e.id, streamId: e.streamId, revision: e.revision, type: e.type, data: e.data, metadata: e.metadata, hash: e.hash, previousHash: e.previousHash });

const verifyChains = (events: readonly RecordedEvent[]) => {
  const heads = new Map<string, { revision: number; hash: string }>();
  for (const e of events) {
    const head = heads.get(e.streamId);
    expect(e.revision).toBe(head ? head.revision + 1 : 0);
    expect(e.previousHash).toBe(head?.hash ?? null);
    expect(eventHash(e.previousHash, e)).toBe(e.hash);
    heads.set(e.streamId, { revision: e.revision, hash: e.hash });
  }
  return heads.size;
};

const exportToLines = async (store: EventStore, after: string | null = null) => {
  const lines: string[] = [];
  const trailer = await exportLog(store, (l) => void lines.push(l), { after, pageSize: 97 });
  return { lines: lines.join('').split('\n').filter((l) => l !== ''), trailer };
};

async function* iterate(lines: readonly string[]) {
  for (const l of lines) yield l;
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return `${(err as { code?: string }).code}: ${(err as Error).message}`;
  }
};

describe('export / import of the event log (PostgreSQL → NDJSON → PostgreSQL)', () => {
  let source: Db;
  let src: EventStore;
  const targets: { db: Db; adapter: EventStoreAdapter }[] = [];
  const commandIds: string[] = [];
  let total = 0;

  const newTarget = async () => {
    const db = await createTestDatabase('import');
    const adapter = getPostgresEventStoreAdapter({ pool: db.pool, connectionString: db.connectionString, schema: db.schema });
    targets.push({ db, adapter });
    return { db, adapter, store: db.newStore() };
  };

  beforeAll(async () => {
    source = await createTestDatabase('export');
    src = source.newStore();
    // 40 streams, interleaved appends of 1-3 events, half of them with a commandId
    const streams = Array.from({ length: 40 }, () => `case-${randomUUID()}`);
    for (let round = 0; round < 6; round++) {
      await Promise.all(streams.map(async (s, i) => {
        if ((i + round) % 4 === 3) return;
        const commandId = (i + round) % 2 === 0 ? randomUUID() : undefined;
        if (commandId) commandIds.push(commandId);
        const n = 1 + ((i * 7 + round) % 3);
        total += n;
        await src.appendToStream(s, Array.from({ length: n }, (_, k) => ev(k === 0 ? 'CaseSubmitted' : 'MaterialsAdded', {
          round, k, title: '营业执照变更登记 №' + i, nested: { list: [1, 'two', null, { deep: true }], empty: {} },
        }, commandId)), { commandId });
      }));
    }
    expect(await settled(src, total)).toHaveLength(total);
  });

  afterAll(async () => {
    for (const t of targets) {
      await t.adapter.close().catch(() => {});
      await t.db.drop();
    }
    await source?.drop();
  });

  it('round-trips every event: ids, streams, revisions, types, data, metadata and hashes equal; chains verify', async () => {
    const original = await readEverything(src);
    const { lines, trailer } = await exportToLines(src);
    expect(trailer.events).toBe(original.length);
    expect(lines).toHaveLength(original.length + 2);
    expect(JSON.parse(lines[0]!)).toMatchObject({ kind: 'header', format: 'govcase-event-log/v1', store: 'postgres', after: null });
    expect(JSON.parse(lines.at(-1)!)).toEqual({ kind: 'trailer', events: original.length, streamsStarted: 40, lastPosition: original.at(-1)!.position });

    const t = await newTarget();
    const result = await importLog(t.adapter, iterate(lines), { concurrency: 8 });
    expect(result).toEqual({ events: original.length, imported: original.length, skipped: 0, streamsStarted: 40, checkpointsNotCopied: 0 });

    const copied = await settled(t.store, original.length);
    expect(copied).toHaveLength(original.length);
    // the target's global order may interleave streams differently; per stream it is the same
    const byKey = (events: RecordedEvent[]) => new Map(events.map((e) => [`${e.streamId}@${e.revision}`, kept(e)]));
    expect(byKey(copied)).toEqual(byKey(original));
    expect(verifyChains(copied)).toBe(40);
    for (const s of new Set(original.map((e) => e.streamId))) {
      expect((await t.store.readStream(s)).map(kept)).toEqual((await src.readStream(s)).map(kept));
      expect(await t.store.streamHead(s)).toEqual(await src.streamHead(s));
    }
    // the idempotency records came along: a repeated command is answered, not appended again
    for (const commandId of commandIds.slice(0, 10)) {
      const a = await src.findCommand(commandId);
      const b = await t.store.findCommand(commandId);
      expect(b).toMatchObject({ streamId: a!.streamId, fromRevision: a!.fromRevision, toRevision: a!.toRevision });
    }
    // and the copied log goes on: the next append chains onto the imported head
    const s = original[0]!.streamId;
    const next = await t.store.appendToStream(s, [ev('CaseAccepted', {})]);
    expect(next.events[0]!.previousHash).toBe((await src.streamHead(s))!.hash);
  });

  it('running the same import again appends nothing; an export in two parts imports as two runs', async () => {
    const original = await readEverything(src);
    const t = await newTarget();
    const middle = original[Math.floor(original.length / 2)]!.position;
    const first = await exportToLines(src);
    // part 1 only up to the middle: cut the full export there, with its own trailer
    const upTo = first.lines.slice(1, -1).filter((l) => src.comparePositions(JSON.parse(l).position, middle) <= 0);
    const part1 = [first.lines[0]!, ...upTo, JSON.stringify({ kind: 'trailer', events: upTo.length, streamsStarted: 0, lastPosition: middle })];
    const part2 = (await exportToLines(src, middle)).lines;
    expect(part1.length - 2 + part2.length - 2).toBe(original.length);

    expect((await importLog(t.adapter, iterate(part1))).imported).toBe(upTo.length);
    expect(await importLog(t.adapter, iterate(part1))).toMatchObject({ imported: 0, skipped: upTo.length });
    // part 2 continues streams mid-way: their chains are checked against the target's heads
    expect((await importLog(t.adapter, iterate(part2), { maxChains: 2 })).imported).toBe(original.length - upTo.length);
    // the whole file once more: everything is already there
    expect(await importLog(t.adapter, iterate(first.lines), { maxChains: 3 })).toMatchObject({ imported: 0, skipped: original.length });
    const copied = await settled(t.store, original.length);
    expect(copied.map(kept).sort((a, b) => a.id.localeCompare(b.id))).toEqual(original.map(kept).sort((a, b) => a.id.localeCompare(b.id)));
    verifyChains(copied);
  });

  it('refuses a broken chain with VALIDATION_FAILED naming the line, and a truncated or foreign file', async () => {
    const { lines } = await exportToLines(src);
    const n = 30;
    const altered = JSON.parse(lines[n]!);
    altered.data = { ...altered.data, title: 'altered' };
    const tampered = [...lines.slice(0, n), JSON.stringify(altered), ...lines.slice(n + 1)];
    const t = await newTarget();
    const r1 = await codeOf(importLog(t.adapter, iterate(tampered)));
    expect(r1).toMatch(/^VALIDATION_FAILED: line 31: broken hash chain in .* does not hash to its recorded hash/);

    // an event left out: the next one of that stream does not follow
    const skipped = lines.findIndex((l, i) => i > 0 && JSON.parse(l).revision === 1);
    const gap = [...lines.slice(0, skipped), ...lines.slice(skipped + 1)];
    expect(await codeOf(importLog((await newTarget()).adapter, iterate(gap)))).toMatch(/^VALIDATION_FAILED: line \d+: stream .* revision 2 where 1 was due/);

    // a previousHash rewritten along with the hash (a forged chain) still breaks at the next link
    const forged = JSON.parse(lines[skipped]!);
    forged.data = { forged: true };
    forged.hash = eventHash(forged.previousHash, forged);
    const forgedLines = [...lines.slice(0, skipped), JSON.stringify(forged), ...lines.slice(skipped + 1)];
    const nextOfStream = lines.findIndex((l, i) => i > skipped && i < lines.length - 1 && JSON.parse(l).streamId === forged.streamId);
    expect(await codeOf(importLog((await newTarget()).adapter, iterate(forgedLines))))
      .toMatch(new RegExp(`^VALIDATION_FAILED: line ${nextOfStream + 1}: broken hash chain .* previousHash does not match`));

    expect(await codeOf(importLog((await newTarget()).adapter, iterate(lines.slice(0, -1))))).toMatch(/^VALIDATION_FAILED: file: no trailer line/);
    expect(await codeOf(importLog((await newTarget()).adapter, iterate(lines.slice(1))))).toMatch(/^VALIDATION_FAILED: line 1: the file does not start with/);
    expect(await codeOf(importLog((await newTarget()).adapter, iterate([lines[0]!, '{oops'])))).toMatch(/^VALIDATION_FAILED: line 2: not JSON/);
  });

  it('refuses a target that holds a different event at the same place', async () => {
    const { lines } = await exportToLines(src);
    const t = await newTarget();
    const firstEvent = JSON.parse(lines[1]!);
    await t.store.appendToStream(firstEvent.streamId, [ev('SomethingElse', { x: 1 })]);
    expect(await codeOf(importLog(t.adapter, iterate(lines)))).toMatch(/^VALIDATION_FAILED: line 2: the target holds a different event at .* revision 0: not the same log/);
  });

  it('the CLI: govcase export --out FILE from one schema, govcase import --in FILE into another', async () => {
    const original = await readEverything(src);
    const t = await newTarget();
    const file = path.join(os.tmpdir(), `govcase-export-${randomUUID()}.ndjson`);
    const run = promisify(execFile);
    const env = (schema: string) => ({ ...process.env, DATABASE_URL: source.connectionString, DATABASE_SCHEMA: schema, DEADLINE_CLOCK: 'off', GOVCASE_MASTER_KEY: '00112233445566778899aabbccddeeff', EVENT_STORE: 'postgres' });
    const cli = path.resolve('bin/govcase.js');
    const tsx = process.execPath;
    try {
      const ex = await run(tsx, [cli, 'export', '--out', file], { env: env(source.schema) });
      expect(ex.stderr).toMatch(new RegExp(`exported ${original.length.toLocaleString('en')} events \\(40 streams begin here\\)`));
      expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(original.length + 2);
      const im = await run(tsx, [cli, 'import', '--in', file], { env: env(t.db.schema) });
      expect(im.stderr).toMatch(new RegExp(`imported ${original.length.toLocaleString('en')} events \\(40 streams begin here\\)`));
      expect((await settled(t.store, original.length)).map(kept).sort((a, b) => a.id.localeCompare(b.id))).toEqual(original.map(kept).sort((a, b) => a.id.localeCompare(b.id)));
      // a bad argument is a clear refusal, not a stack trace
      const badRun = await run(tsx, [cli, 'import'], { env: env(t.db.schema) }).then(() => null, (err: { code: number; stderr: string }) => err);
      expect(badRun?.code).toBe(2);
      expect(badRun?.stderr).toMatch(/import needs --in FILE/);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});

describe('import and the source’s integrity checkpoints', () => {
  it('verifies the checkpoint stream’s chain but does not copy it: the target signs a series of its own', async () => {
    const source = await createTestDatabase('export_cp');
    const target = await createTestDatabase('import_cp');
    try {
      const src = source.newStore();
      await src.appendToStream(`case-${randomUUID()}`, [ev('CaseSubmitted', { n: 1 })]);
      await src.appendToStream(CHECKPOINT_STREAM, [ev('IntegrityCheckpointCreated', { sequence: 1 }), ev('IntegrityCheckpointCreated', { sequence: 2 })]);
      expect(await settled(src, 3)).toHaveLength(3);
      const { lines } = await exportToLines(src);
      const adapter = getPostgresEventStoreAdapter({ pool: target.pool, connectionString: target.connectionString, schema: target.schema });
      const result = await importLog(adapter, iterate(lines));
      expect(result).toMatchObject({ events: 3, imported: 1, checkpointsNotCopied: 2 });
      expect(await target.newStore().readStream(CHECKPOINT_STREAM)).toEqual([]);
      // a broken checkpoint chain is still refused
      const tampered = lines.map((l) => (l.includes('"sequence":2') ? l.replace('"sequence":2', '"sequence":3') : l));
      const again = await createTestDatabase('import_cp2');
      try {
        const a2 = getPostgresEventStoreAdapter({ pool: again.pool, connectionString: again.connectionString, schema: again.schema });
        expect(await codeOf(importLog(a2, iterate(tampered)))).toMatch(/^VALIDATION_FAILED: .*system-integrity-checkpoints at revision 1/);
        await a2.close();
      } finally {
        await again.drop();
      }
      await adapter.close();
    } finally {
      await source.drop();
      await target.drop();
    }
  });
});
