import pg from 'pg';
import { eventHash } from '../../../domain/integrity.ts';
import { createBlindIndex } from '../../../infrastructure/keys.ts';
import { createPool } from '../../../infrastructure/postgres/pool.ts';
import { getPostgresEventStore } from '../../../infrastructure/postgres/eventStore.ts';
import { createProjections } from '../../../projections/index.ts';
import { rebuildProjection } from '../../../projections/rebuild.ts';
import type { Ack } from './load.ts';
import { RELIABILITY_MASTER_KEY } from './serverProcess.ts';

/**
 * What "nothing lost, nothing doubled, nothing half-done" means, checked straight against the tables
 * (not through the server under test):
 * - every acknowledged command has its record and exactly its events, at the version it answered;
 * - every command record is complete and every event that names a command belongs to its record
 *   (no half-command: an unacknowledged command is all there or not there at all);
 * - every stream is gap-free from revision 0, its head matches `streams`, its SM3 chain verifies;
 * - every projection equals a rebuild from zero (after it has caught up).
 */
export interface StoreReport {
  readonly events: number;
  readonly streams: number;
  readonly commands: number;
  readonly acknowledged: number;
  /** acknowledged commands whose events are missing or wrong: must be empty */
  readonly lost: string[];
  /** acknowledged commands whose events appear more than once: must be empty */
  readonly doubled: string[];
  /** partial or inconsistent commands, gaps, head mismatches: must be empty */
  readonly partial: string[];
  /** streams whose hash chain does not verify: must be empty */
  readonly brokenChains: string[];
}

export const adminPool = (connectionString: string, schema: string) => createPool({ connectionString, schema, max: 4, applicationName: 'govcase-reliability-check' });

export const checkStore = async (pool: pg.Pool, acks: ReadonlyMap<string, Ack>): Promise<StoreReport> => {
  // one snapshot for every read: the server may still be appending (its integrity checkpoints), and
  // events read before a commit with its stream head read after would look like a half-command
  const client = await pool.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    const report = await checkSnapshot(client, acks);
    await client.query('commit');
    return report;
  } finally {
    client.release();
  }
};

const checkSnapshot = async (pool: pg.PoolClient, acks: ReadonlyMap<string, Ack>): Promise<StoreReport> => {
  const lost: string[] = [];
  const doubled: string[] = [];
  const partial: string[] = [];
  const brokenChains: string[] = [];

  const commands = new Map<string, { stream_id: string; from_revision: string | null; to_revision: string | null; position: string | null }>();
  for (const r of (await pool.query('select command_id, stream_id, from_revision, to_revision, position from commands')).rows) commands.set(r.command_id, r);
  const perCommand = new Map<string, { stream: string; revisions: number[] }>();
  const events = (await pool.query<{ stream_id: string; revision: string; type: string; data: unknown; metadata: Record<string, unknown>; hash: string; previous_hash: string | null }>(
    'select stream_id, revision, type, data, metadata, hash, previous_hash from events order by stream_id, revision',
  )).rows;
  const streams = new Map<string, typeof events>();
  for (const e of events) {
    const list = streams.get(e.stream_id) ?? [];
    list.push(e);
    streams.set(e.stream_id, list);
    const cmd = typeof e.metadata.commandId === 'string' ? e.metadata.commandId : null;
    if (cmd) {
      const entry = perCommand.get(cmd) ?? { stream: e.stream_id, revisions: [] };
      entry.revisions.push(Number(e.revision));
      perCommand.set(cmd, entry);
    }
  }

  // acknowledged commands: present, exactly once, at the answered version
  for (const ack of acks.values()) {
    const rec = commands.get(ack.commandId);
    const evs = perCommand.get(ack.commandId);
    if (!rec || rec.position === null || !evs) {
      lost.push(`${ack.mutation} ${ack.commandId} (case ${ack.caseId}, version ${ack.version}): ${!rec ? 'no command record' : !evs ? 'no events' : 'record without position'}`);
      continue;
    }
    if (Number(rec.to_revision) !== ack.version || !rec.stream_id.endsWith(ack.caseId)) lost.push(`${ack.mutation} ${ack.commandId}: answered version ${ack.version} on ${ack.caseId}, stored ${rec.to_revision} on ${rec.stream_id}`);
    if (new Set(evs.revisions).size !== evs.revisions.length || evs.revisions.length !== Number(rec.to_revision) - Number(rec.from_revision) + 1)
      doubled.push(`${ack.mutation} ${ack.commandId}: revisions ${evs.revisions.join(',')} for record ${rec.from_revision}..${rec.to_revision}`);
  }
  // every command record is complete and matches its events; every event's command has a record
  for (const [id, rec] of commands) {
    const evs = perCommand.get(id);
    if (rec.position === null || rec.from_revision === null || rec.to_revision === null) { partial.push(`command ${id}: record without result`); continue; }
    const want = Number(rec.to_revision) - Number(rec.from_revision) + 1;
    const sorted = [...(evs?.revisions ?? [])].sort((a, b) => a - b);
    if (!evs || evs.stream !== rec.stream_id || sorted.length !== want || sorted[0] !== Number(rec.from_revision) || sorted.at(-1) !== Number(rec.to_revision))
      partial.push(`command ${id}: record ${rec.stream_id} ${rec.from_revision}..${rec.to_revision}, events ${evs?.stream ?? '-'} [${sorted.join(',')}]`);
  }
  for (const id of perCommand.keys()) if (!commands.has(id)) partial.push(`events of command ${id} without its record`);
  // streams: gap-free, head matches, chain verifies
  const heads = new Map<string, { version: string; hash: string }>();
  for (const r of (await pool.query('select stream_id, version, hash from streams')).rows) heads.set(r.stream_id, r);
  for (const [streamId, list] of streams) {
    let previous: string | null = null;
    for (const [i, e] of list.entries()) {
      if (Number(e.revision) !== i) { partial.push(`stream ${streamId}: revision ${e.revision} at index ${i}`); break; }
      if (e.previous_hash !== previous || e.hash !== eventHash(previous, { streamId, revision: i, type: e.type, data: e.data, metadata: e.metadata })) {
        brokenChains.push(`${streamId} at revision ${i}`);
        break;
      }
      previous = e.hash;
    }
    const head = heads.get(streamId);
    if (!head || Number(head.version) !== list.length - 1 || head.hash !== list.at(-1)!.hash) partial.push(`stream ${streamId}: head ${head?.version ?? 'missing'} vs ${list.length - 1} events`);
  }
  for (const streamId of heads.keys()) if (!streams.has(streamId)) partial.push(`stream ${streamId}: head without events`);
  return { events: events.length, streams: streams.size, commands: commands.size, acknowledged: acks.size, lost, doubled, partial, brokenChains };
};

/**
 * Waits until every projection's checkpoint is at the head of the log (the server's runner is still
 * running), or within `tolerance` events of it (a head that moves under load).
 */
export const waitForProjections = async (pool: pg.Pool, timeoutMs = 60_000, tolerance = 0): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  const names = createProjections({ blindIndex: () => '' }).map((p) => p.name);
  while (Date.now() < deadline) {
    const r = await pool.query<{ behind: number }>(
      `select count(*)::int as behind from unnest($1::text[]) as n(name)
         left join projection_checkpoints c on c.name = n.name
        where (select count(*) from (select 1 from events e where (e.tx_id, e.position) > (coalesce(c.tx_id, '0'::xid8), coalesce(c.pos, 0)) limit $2 + 1) x) > $2`,
      [names, tolerance],
    );
    if (r.rows[0]!.behind === 0) return true;
    await new Promise((res) => setTimeout(res, 250));
  }
  return false;
};

/**
 * Tables a projection owns that are not a function of the log by design: `stats_names_version` is a
 * cache stamp (the id of the transaction that last changed a display name), different in a rebuild.
 */
const NOT_FROM_THE_LOG = new Set(['stats_names_version']);

/** Rebuilds every projection from zero into `<table>__rebuild` and lists the tables that differ from the live ones. */
export const compareProjectionsWithRebuild = async (connectionString: string, schema: string): Promise<{ tables: number; rows: number; differing: string[] }> => {
  const pool = adminPool(connectionString, schema);
  const store = getPostgresEventStore({ pool, connectionString, schema });
  const differing: string[] = [];
  let tables = 0;
  let rows = 0;
  try {
    const projections = createProjections({ blindIndex: createBlindIndex(RELIABILITY_MASTER_KEY) });
    for (const projection of projections) {
      await rebuildProjection({ pool, store, projection, schema, switchOver: false, fresh: true });
      for (const table of projection.tables) {
        if (NOT_FROM_THE_LOG.has(table)) {
          await pool.query(`drop table if exists ${table}__rebuild`);
          continue;
        }
        tables++;
        const snapshot = async (name: string) =>
          (await pool.query<{ r: string }>(`select to_jsonb(t)::text as r from ${name} t`)).rows.map((x) => x.r).sort();
        const live = await snapshot(table);
        const rebuilt = await snapshot(`${table}__rebuild`);
        rows += live.length;
        if (live.length !== rebuilt.length || live.some((r, i) => r !== rebuilt[i])) {
          const onlyLive = live.filter((r) => !rebuilt.includes(r)).slice(0, 2);
          const onlyRebuilt = rebuilt.filter((r) => !live.includes(r)).slice(0, 2);
          differing.push(`${table}: ${live.length} live rows vs ${rebuilt.length} rebuilt; live only ${JSON.stringify(onlyLive)}; rebuilt only ${JSON.stringify(onlyRebuilt)}`);
        }
        await pool.query(`drop table if exists ${table}__rebuild`);
      }
      await pool.query('delete from projection_checkpoints where name = $1', [`${projection.name}@rebuild`]);
    }
  } finally {
    await store.close();
    await pool.end();
  }
  return { tables, rows, differing };
};

/** A fresh schema for one test; `drop()` removes it. */
export const freshSchema = async (connectionString: string, label: string) => {
  const schema = `rel_${label}_${Math.random().toString(16).slice(2, 10)}`;
  const drop = async () => {
    const c = new pg.Client({ connectionString });
    await c.connect();
    try {
      await c.query(`drop schema if exists ${schema} cascade`);
    } finally {
      await c.end();
    }
  };
  return { schema, drop };
};
