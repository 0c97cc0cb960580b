import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../application/ports.ts';
import { createIntegrity } from '../../infrastructure/integrity/index.ts';
import { generateSigningKey, sm2Signer } from '../../infrastructure/integrity/sm2.ts';
import { createTestDatabase } from '../support/db.ts';
import { untilVisible } from './visible.ts';

/** `govcase verify`, `checkpoints export`, `public-key` and `replay` as child processes, with their exit codes. */
const BIN = new URL('../../bin/govcase.js', import.meta.url).pathname;
const KEY = generateSigningKey();

const run = (args: string[], env: Record<string, string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });

describe('govcase verify (child process)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let home: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase('cli_verify');
    home = await mkdtemp(path.join(tmpdir(), 'govcase-cli-'));
    env = { DATABASE_URL: db.connectionString, DATABASE_SCHEMA: db.schema, GOVCASE_HOME: home, GOVCASE_SIGNING_KEY: KEY, NODE_ENV: 'test' };
    const store = db.newStore();
    for (let i = 0; i < 4; i++)
      await store.appendToStream('case-00000000-0000-4000-8000-000000000001', [{
        type: 'Noted', data: { i },
        metadata: { actorId: 'clerk-1', actorRole: 'clerk', departmentCode: 'GY-MARKET', sourceAddress: '10.0.0.7', clientApp: 'window-app', reason: `note ${i}`, occurredAt: `2026-09-0${i + 1}T09:00:00.000Z` },
      }], { expectedVersion: i - 1 === -1 ? 'no_stream' : i - 1 });
    await untilVisible(store, db.pool);
    await createIntegrity({ pool: db.pool, store, signingKey: KEY, clock: systemClock }).checkpointer.create();
  });
  afterAll(async () => {
    await db?.drop();
    await rm(home, { recursive: true, force: true });
  });

  it('exit 0 on an intact log; public-key prints the key; checkpoints export feeds --checkpoint', async () => {
    const ok = await run(['verify'], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/OK: no problem found/);
    expect(ok.stdout).toMatch(/events\/s/);
    expect(ok.stdout).toMatch(/against signed checkpoint 1/);

    const pub = await run(['public-key'], env);
    expect(pub.stdout.trim()).toBe(sm2Signer(KEY).publicKey);

    const file = path.join(home, 'checkpoints.ndjson');
    expect((await run(['checkpoints', 'export', '--out', file], env)).code).toBe(0);
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(1);
    // offline: no signing key, only the public key and the exported checkpoints
    const { GOVCASE_SIGNING_KEY: _k, ...withoutKey } = env;
    const offline = await run(['verify', '--checkpoint', file, '--public-key', pub.stdout.trim(), '--json'], withoutKey);
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout)).toMatchObject({ ok: true, eventsChecked: 5, checkpoint: { sequence: 1 } });

    const replay = await run(['replay', '--stream', 'case-00000000-0000-4000-8000-000000000001', '--at', '2026-09-02T12:00:00Z'], env);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/2 of 4 event\(s\)/);
    expect(replay.stdout).toMatch(/#1 {2}2026-09-02T09:00:00.000Z {2}Noted {2}by clerk-1 \(clerk, GY-MARKET\) from 10\.0\.0\.7 via window-app/);
    expect(replay.stdout).toMatch(/reason: note 1/);
  });

  it('exit 1 with another public key, and when an event was changed; exit 2 on bad arguments', async () => {
    const other = await run(['verify', '--public-key', sm2Signer(generateSigningKey()).publicKey], env);
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/BAD_SIGNATURE/);
    expect((await run(['verify', '--public-key', 'nonsense'], env)).code).toBe(2);
    expect((await run(['verify', '--bogus'], env)).code).toBe(2);

    const c = new pg.Client({ connectionString: db.connectionString });
    await c.connect();
    await c.query(`set search_path to ${db.schema}`);
    await c.query('alter table events disable trigger all');
    await c.query(`update events set data = '{"i": 9}' where stream_id = 'case-00000000-0000-4000-8000-000000000001' and revision = 2`);
    await c.query('alter table events enable trigger all');
    await c.end();
    const broken = await run(['verify'], env);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/first broken stream case-00000000-0000-4000-8000-000000000001 at revision 2/);
    expect((await run(['verify', '--stream', 'case-00000000-0000-4000-8000-000000000001'], env)).code).toBe(1);
  });
});
