import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { EventStore } from '../../application/eventStore.ts';
import { readCheckpoints, verifyIntegrity, type IntegrityReport, type VerifyProgress } from '../../application/integrity.ts';
import { GovcaseError } from '../../domain/errors.ts';
import type { Env } from '../config.ts';
import { getPostgresIntegrityLog } from '../integrity/postgresLog.ts';
import { isPublicKeyHex, loadSigningKey, sm2Check, sm2Signer } from '../integrity/sm2.ts';
import { getPostgresEventStore } from '../postgres/eventStore.ts';
import { createPool } from '../postgres/pool.ts';
import { startRuntime } from '../runtime.ts';

/**
 * `govcase verify`, `govcase checkpoints …`, `govcase public-key`: the auditor's integrity tools.
 * With DATABASE_URL, verify only reads (no migrations), so it runs under a read-only role; it needs
 * only the public key (`--public-key`, else the one derived from the configured signing key).
 */
export const VERIFY_USAGE = `  verify [--stream S] [--checkpoint FILE] [--public-key HEX] [--json]
             recompute the SM3 hash chains and check them against the latest validly signed checkpoint
             (FILE: checkpoints exported earlier, kept outside the database); exit 1 when broken
  checkpoints export [--out FILE] | checkpoints create
             write the signed checkpoints as NDJSON (one per line, oldest first) | sign one now
  public-key print the SM2 public key that verifies this server's checkpoints`;

const say = (msg: string) => process.stderr.write(`govcase: ${msg}\n`);

interface Db {
  readonly store: EventStore;
  readonly pool: import('pg').Pool;
  close(): Promise<void>;
}

/** The store, read-only: a pool of its own with DATABASE_URL, else the embedded database (dev). */
const openDb = async (env: Env): Promise<Db> => {
  if (env.DATABASE_URL) {
    const pool = createPool({ connectionString: env.DATABASE_URL, schema: env.DATABASE_SCHEMA, max: 4, applicationName: 'govcase-verify', statementTimeoutMillis: 600_000 });
    const store = getPostgresEventStore({ pool, connectionString: env.DATABASE_URL, schema: env.DATABASE_SCHEMA });
    return { store, pool, close: async () => { await store.close(); await pool.end(); } };
  }
  const runtime = await startRuntime(env, say);
  return { store: runtime.store, pool: runtime.pool, close: () => runtime.close() };
};

/** The trusted public key: given, else derived from the configured signing key (never generated here). */
const trustedPublicKey = async (env: Env, given: string | undefined): Promise<string | null> => {
  if (given) return isPublicKeyHex(given) ? given.toLowerCase() : null;
  const devFile = path.join(env.GOVCASE_HOME, 'govcase_signing_key.hex');
  if (!env.GOVCASE_SIGNING_KEY && !env.GOVCASE_SIGNING_KEY_FILE && !existsSync(devFile)) return null;
  const key = await loadSigningKey({ value: env.GOVCASE_SIGNING_KEY, file: env.GOVCASE_SIGNING_KEY_FILE, home: env.GOVCASE_HOME, production: env.NODE_ENV === 'production' });
  return sm2Signer(key).publicKey;
};

/** A checkpoint file: NDJSON (one checkpoint per line), a JSON array, or one JSON checkpoint. */
export const parseCheckpointFile = (text: string): unknown[] => {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  try {
    const whole = JSON.parse(trimmed) as unknown;
    return Array.isArray(whole) ? whole : [whole];
  } catch {
    return trimmed.split('\n').filter((l) => l.trim() !== '').map((line, i) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw new GovcaseError('VALIDATION_FAILED', `checkpoint file, line ${i + 1}: not JSON`, { field: 'checkpoint' });
      }
    });
  }
};

const progressLine = (p: VerifyProgress) =>
  `verify: ${p.events.toLocaleString('en')} events in ${p.streams.toLocaleString('en')} streams, ${p.eventsPerSec.toLocaleString('en')} events/s`;

const printReport = (r: IntegrityReport) => {
  const out: string[] = [];
  out.push(`checked ${r.eventsChecked.toLocaleString('en')} events in ${r.streamsChecked.toLocaleString('en')} streams in ${r.seconds.toFixed(2)} s (${r.eventsPerSec.toLocaleString('en')} events/s)`);
  out.push(r.checkpoint
    ? `against signed checkpoint ${r.checkpoint.sequence} (of ${r.checkpointsRead}) at position ${r.checkpoint.position || '(empty log)'}, ${r.checkpoint.createdAt}, ${r.checkpoint.streams} streams`
    : `no validly signed checkpoint${r.checkpointsRead ? ` (of ${r.checkpointsRead} read)` : ''}: hash chains only (deletions at the end of a stream and rewritten chains cannot be seen)`);
  if (r.ok) out.push('OK: no problem found');
  else {
    out.push(`BROKEN: ${r.problems.length} problem(s)${r.brokenStreamId ? `; first broken stream ${r.brokenStreamId} at revision ${r.brokenRevision}` : ''}`);
    for (const p of r.problems) out.push(`  ${p.kind}${p.streamId ? ` ${p.streamId}` : ''}${p.revision !== null ? ` @${p.revision}` : ''}${p.sequence ? ` (checkpoint ${p.sequence})` : ''}: ${p.detail}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
};

export const runVerify = async (env: Env, args: string[]): Promise<number> => {
  let values: { stream?: string; checkpoint?: string; 'public-key'?: string; json?: boolean };
  try {
    ({ values } = parseArgs({ args, options: { stream: { type: 'string' }, checkpoint: { type: 'string' }, 'public-key': { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    say(`${(err as Error).message}\n${VERIFY_USAGE}`);
    return 2;
  }
  const publicKey = await trustedPublicKey(env, values['public-key']);
  if (!publicKey) {
    say(values['public-key'] ? '--public-key: an uncompressed SM2 public key, 130 hex characters starting with 04' : 'no public key: pass --public-key HEX (see `govcase public-key`), or set GOVCASE_SIGNING_KEY / GOVCASE_SIGNING_KEY_FILE');
    return 2;
  }
  let checkpoints: unknown[] | undefined;
  if (values.checkpoint) {
    try {
      checkpoints = parseCheckpointFile(await readFile(values.checkpoint, 'utf8'));
    } catch (err) {
      say(`--checkpoint ${values.checkpoint}: ${(err as Error).message}`);
      return 2;
    }
  }
  const db = await openDb(env);
  try {
    const tty = process.stderr.isTTY;
    const report = await verifyIntegrity({
      store: db.store, log: getPostgresIntegrityLog({ pool: db.pool, store: db.store }), publicKey, check: sm2Check,
      streamId: values.stream, checkpoints,
      onProgress: (p) => process.stderr.write(tty ? `\r\x1b[2K${progressLine(p)}` : `${progressLine(p)}\n`),
    });
    if (tty) process.stderr.write('\r\x1b[2K');
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else printReport(report);
    return report.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof GovcaseError) {
      say(`${err.code}: ${err.message}`);
      return err.code === 'UNAVAILABLE' ? 3 : 2;
    }
    throw err;
  } finally {
    await db.close();
  }
};

export const runCheckpoints = async (env: Env, args: string[]): Promise<number> => {
  const [sub, ...rest] = args;
  if (sub === 'export') {
    let values: { out?: string };
    try {
      ({ values } = parseArgs({ args: rest, options: { out: { type: 'string' } }, strict: true, allowPositionals: false }));
    } catch (err) {
      say(`${(err as Error).message}\n${VERIFY_USAGE}`);
      return 2;
    }
    const db = await openDb(env);
    try {
      const all = await readCheckpoints(db.store);
      const text = all.map((c) => JSON.stringify(c)).join('\n') + (all.length ? '\n' : '');
      if (values.out) await writeFile(values.out, text);
      else process.stdout.write(text);
      say(`${all.length} checkpoint(s) exported${values.out ? ` to ${values.out}` : ''}`);
      return 0;
    } finally {
      await db.close();
    }
  }
  if (sub === 'create') {
    const runtime = await startRuntime(env, say);
    try {
      if (!runtime.integrity) {
        say('signed checkpoints need the PostgreSQL event store');
        return 2;
      }
      const cp = (await runtime.integrity.checkpointer.create({ actor: { id: process.env.USER ?? 'cli', role: 'admin', clientApp: 'govcase-cli' } }))!;
      process.stdout.write(`${JSON.stringify({ sequence: cp.sequence, position: cp.position, streams: cp.streams, merkleRoot: cp.merkleRoot, createdAt: cp.createdAt })}\n`);
      return 0;
    } finally {
      await runtime.close();
    }
  }
  say(`checkpoints: export or create\n${VERIFY_USAGE}`);
  return 2;
};

export const runPublicKey = async (env: Env): Promise<number> => {
  const key = await loadSigningKey({ value: env.GOVCASE_SIGNING_KEY, file: env.GOVCASE_SIGNING_KEY_FILE, home: env.GOVCASE_HOME, production: env.NODE_ENV === 'production', log: say });
  process.stdout.write(`${sm2Signer(key).publicKey}\n`);
  return 0;
};

