import { once } from 'node:events';
import fs from 'node:fs';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { exportLog, importLog, type TransferProgress } from '../../application/exportLog.ts';
import { GovcaseError } from '../../domain/errors.ts';
import type { Env } from '../config.ts';
import { startRuntime } from '../runtime.ts';

/**
 * `govcase export [--after POS] [--out FILE]` and `govcase import --in FILE [--concurrency N]`:
 * the global log as NDJSON (application/exportLog.ts), from and to whichever store EVENT_STORE
 * selects. Progress goes to stderr; the export goes to stdout without --out.
 */
export const EXPORT_IMPORT_USAGE = `  export [--after POS] [--out FILE]
             write the event log (after POS, exclusive) as NDJSON: a header, one line per event, a trailer
  import --in FILE [--concurrency N]
             append an export to the configured store (empty, or holding an earlier part of the same log),
             verifying every stream's hash chain; running it again skips what is already there`;

const say = (msg: string) => process.stderr.write(`govcase: ${msg}\n`);

const progressLine = (verb: string, p: TransferProgress, started: number) => {
  const secs = (Date.now() - started) / 1000;
  const rate = secs > 0 ? Math.round(p.events / secs) : 0;
  return `${verb} ${p.events.toLocaleString('en')} events (${p.streamsStarted.toLocaleString('en')} streams begin here)${p.skipped ? ` (${p.skipped.toLocaleString('en')} already there)` : ''}, ${rate.toLocaleString('en')} events/s`;
};

const reportError = (err: unknown): number => {
  if (err instanceof GovcaseError) {
    say(`${err.code}: ${err.message}`);
    return err.code === 'UNAVAILABLE' ? 3 : 2;
  }
  throw err;
};

export const runExport = async (env: Env, args: string[]): Promise<number> => {
  let values: { after?: string; out?: string };
  try {
    ({ values } = parseArgs({ args, options: { after: { type: 'string' }, out: { type: 'string' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    say(`export: ${(err as Error).message}`);
    return 2;
  }
  const runtime = await startRuntime(env, say);
  const out = values.out ? fs.createWriteStream(values.out, { flags: 'w' }) : process.stdout;
  const started = Date.now();
  let last = 0;
  try {
    const trailer = await exportLog(runtime.store, async (line) => {
      if (!out.write(line)) await once(out, 'drain');
    }, {
      after: values.after ?? null,
      onProgress: (p) => {
        if (Date.now() - last > 2_000) {
          last = Date.now();
          say(progressLine('exported', p, started));
        }
      },
    });
    say(`${progressLine('exported', trailer, started)}; last position ${trailer.lastPosition ?? '(none)'} (resume with --after ${trailer.lastPosition ?? ''})`);
    return 0;
  } catch (err) {
    return reportError(err);
  } finally {
    if (out !== process.stdout) await new Promise<void>((resolve) => (out as fs.WriteStream).end(resolve));
    await runtime.close();
  }
};

export const runImport = async (env: Env, args: string[]): Promise<number> => {
  let values: { in?: string; concurrency?: string };
  try {
    ({ values } = parseArgs({ args, options: { in: { type: 'string' }, concurrency: { type: 'string' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    say(`import: ${(err as Error).message}`);
    return 2;
  }
  if (!values.in) {
    say('import needs --in FILE (or --in - for stdin)');
    return 2;
  }
  const concurrency = Number(values.concurrency ?? 16);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    say('--concurrency must be a whole number from 1 to 256');
    return 2;
  }
  if (values.in !== '-' && !fs.existsSync(values.in)) {
    say(`import: no such file: ${values.in}`);
    return 2;
  }
  const runtime = await startRuntime(env, say);
  const input = values.in === '-' ? process.stdin : fs.createReadStream(values.in);
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  const started = Date.now();
  let last = 0;
  try {
    const result = await importLog(runtime.adapter, lines, {
      concurrency,
      onProgress: (p) => {
        if (Date.now() - last > 2_000) {
          last = Date.now();
          say(progressLine('imported', p, started));
        }
      },
    });
    say(`${progressLine('imported', { events: result.events, streamsStarted: result.streamsStarted, skipped: result.skipped }, started)} into ${runtime.store.name}; ` +
      'every hash chain verified. Rebuild the read models from the new log with `govcase rebuild --restart`.');
    return 0;
  } catch (err) {
    return reportError(err);
  } finally {
    lines.close();
    await runtime.close();
  }
};
