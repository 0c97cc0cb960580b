import { parseArgs } from 'node:util';
import { foldCase } from '../../application/caseStream.ts';
import type { RecordedEvent } from '../../application/eventStore.ts';
import { isCaseStream } from '../../domain/case/events.ts';
import type { Env } from '../config.ts';
import { startRuntime } from '../runtime.ts';

/**
 * `govcase replay --stream S [--at TIME]`: a stream's events as an auditor reads them — who (and in
 * which role and department), when, from where and through which application, what, and why — then
 * the state folded from them (for a case stream). With --at, only the events that had occurred by then.
 */
export const REPLAY_USAGE = `  replay --stream S [--at TIME] [--json]
             print a stream's events (who, role, when, from where, what, why) and the case state folded from them`;

const say = (msg: string) => process.stderr.write(`govcase: ${msg}\n`);

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

export const describeEvent = (e: RecordedEvent): string => {
  const m = e.metadata;
  const who = `${m.actorId} (${[str(m.actorRole), str(m.departmentCode)].filter(Boolean).join(', ') || 'no role'})`;
  const where = [str(m.sourceAddress) && `from ${m.sourceAddress}`, str(m.clientApp) && `via ${m.clientApp}`].filter(Boolean).join(' ');
  const lines = [`#${e.revision}  ${m.occurredAt}  ${e.type}  by ${who}${where ? ` ${where}` : ''}`];
  if (str(m.reason)) lines.push(`    reason: ${m.reason}`);
  const ids = [str(m.commandId) && `command ${m.commandId}`, str(m.correlationId) && `request ${m.correlationId}`, str(m.causationId) && `caused by ${m.causationId}`].filter(Boolean);
  if (ids.length) lines.push(`    ${ids.join(', ')}`);
  lines.push(`    recorded ${e.recordedAt} at ${e.position}, hash ${e.hash.slice(0, 16)}…`);
  return lines.join('\n');
};

export const runReplay = async (env: Env, args: string[]): Promise<number> => {
  let values: { stream?: string; at?: string; json?: boolean };
  try {
    ({ values } = parseArgs({ args, options: { stream: { type: 'string' }, at: { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    say(`${(err as Error).message}\n${REPLAY_USAGE}`);
    return 2;
  }
  if (!values.stream) {
    say(`replay needs --stream\n${REPLAY_USAGE}`);
    return 2;
  }
  let at: string | undefined;
  if (values.at !== undefined) {
    const t = Date.parse(values.at);
    if (Number.isNaN(t)) {
      say('--at: an ISO-8601 instant, e.g. 2026-09-01T12:00:00+08:00');
      return 2;
    }
    at = new Date(t).toISOString();
  }
  const runtime = await startRuntime(env, say);
  try {
    const all = await runtime.store.readStream(values.stream);
    if (all.length === 0) {
      say(`no stream ${values.stream}`);
      return 1;
    }
    const events = at ? all.filter((e) => Date.parse(e.metadata.occurredAt) <= Date.parse(at)) : all;
    const state = isCaseStream(values.stream) ? foldCase(events) : null;
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ stream: values.stream, at: at ?? null, events: events.map((e) => ({ revision: e.revision, type: e.type, metadata: e.metadata, recordedAt: e.recordedAt, hash: e.hash })), state })}\n`);
      return 0;
    }
    const out = [`${values.stream}: ${events.length} of ${all.length} event(s)${at ? ` up to ${at}` : ''}`, ''];
    for (const e of events) out.push(describeEvent(e));
    out.push('');
    out.push(state ? `state:\n${JSON.stringify(state, null, 2)}` : 'state: (a fold is defined for case streams only)');
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  } finally {
    await runtime.close();
  }
};
