import { once } from 'node:events';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { isLocalDate } from '../../domain/time.ts';
import type { Env } from '../config.ts';
import { exportGbt39046 } from '../exchange/export.ts';
import { openWithVault } from '../exchange/payloads.ts';
import { startRuntime } from '../runtime.ts';

export const EXCHANGE_EXPORT_USAGE = `  export --format gbt39046 [--from DATE] [--to DATE] [--out FILE]
             the GB/T 39046 data sets (办事申请, 事项受理, 事项办理, 事项办结, 服务评价, 电子监察) of the case
             events in a period (CST dates, inclusive) as NDJSON; a progress line on stderr`;

const say = (msg: string) => process.stderr.write(`govcase: ${msg}\n`);

/** True when `export` was asked for the GB/T 39046 format (main.ts sends those here). */
export const wantsGbt39046 = (args: readonly string[]): boolean =>
  args.some((a, i) => a === '--format=gbt39046' || (a === '--format' && args[i + 1] === 'gbt39046'));

export const runExchangeExport = async (env: Env, args: string[]): Promise<number> => {
  let values: { format?: string; from?: string; to?: string; out?: string };
  try {
    ({ values } = parseArgs({
      args, strict: true, allowPositionals: false,
      options: { format: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } },
    }));
  } catch (err) {
    say(`export: ${(err as Error).message}`);
    return 2;
  }
  if (values.format !== 'gbt39046') { say('export: --format must be gbt39046 here'); return 2; }
  for (const k of ['from', 'to'] as const) {
    const v = values[k];
    if (v !== undefined && !isLocalDate(v)) { say(`export: --${k} must be a date YYYY-MM-DD (got "${v}")`); return 2; }
  }
  if (values.from && values.to && values.from > values.to) { say('export: --from is after --to'); return 2; }
  const runtime = await startRuntime(env, say);
  const out = values.out ? fs.createWriteStream(values.out, { flags: 'w' }) : process.stdout;
  const started = Date.now();
  const tty = process.stderr.isTTY;
  let last = 0;
  const line = (p: { events: number; records: number; inPeriod: number }) => {
    const secs = (Date.now() - started) / 1000;
    return `gbt39046: ${p.events.toLocaleString('en')} events read, ${p.inPeriod.toLocaleString('en')} in the period, ${p.records.toLocaleString('en')} records written, ${Math.round(p.events / Math.max(secs, 0.001)).toLocaleString('en')} events/s`;
  };
  try {
    const result = await exportGbt39046(runtime.store, openWithVault(runtime.deps.vault), async (l) => {
      if (!out.write(l)) await once(out, 'drain');
    }, {
      from: values.from, to: values.to,
      onProgress: (p) => {
        if (tty) process.stderr.write(`\r\x1b[2K${line(p)}`);
        else if (Date.now() - last > 2_000) { last = Date.now(); process.stderr.write(`${line(p)}\n`); }
      },
    });
    if (tty) process.stderr.write('\n');
    say(`${line(result)}; done`);
    return 0;
  } catch (err) {
    say(`export failed: ${(err as Error).message}`);
    return 1;
  } finally {
    if (out !== process.stdout) await new Promise<void>((resolve) => (out as fs.WriteStream).end(resolve));
    await runtime.close();
  }
};
