import { describe, expect, it } from 'vitest';
import type { PreparedEvent } from '../../application/eventStore.ts';
import { GovcaseError } from '../../domain/errors.ts';
import { eventHash, uuidFromName } from '../../domain/integrity.ts';
import {
  ALL_FILTER_REGEX, classifyReadBack, commandRecordOf, commandStreamName, comparePositions, eventsAfter, formatPosition, fromCurrentRevision,
  isExcluded, isReservedStream, parsePosition, toEnvelope, toExpectedRevision, toReadRevision, toRecorded, toThrowable, translateError,
  type RawEvent,
} from '../../infrastructure/eventstoredb/mapping.ts';

/** The pure half of the EventStoreDB adapter: runs everywhere, no server needed. */

const prepared = (streamId: string, revision: number, previousHash: string | null, commandId?: string, i = 0): PreparedEvent => {
  const metadata = { actorId: 'clerk-1', actorRole: 'clerk', occurredAt: '2026-03-02T01:00:00.000Z', ...(commandId ? { commandId } : {}) };
  const base = { streamId, revision, type: 'CaseAccepted', data: { n: revision }, metadata };
  return { ...base, id: commandId ? uuidFromName(`${commandId}/${i}`) : `00000000-0000-4000-8000-${String(revision).padStart(12, '0')}`, hash: eventHash(previousHash, base), previousHash };
};

const raw = (e: PreparedEvent, commit: bigint, prepare: bigint, appendId = 'a-1'): RawEvent => ({
  streamId: e.streamId, id: e.id, revision: BigInt(e.revision), type: e.type, created: new Date('2026-03-02T01:00:01.234Z'),
  data: e.data, metadata: JSON.parse(JSON.stringify(toEnvelope(e, appendId))), position: { commit, prepare },
});

const system = (streamId: string, type: string, commit: bigint): RawEvent => ({
  streamId, id: `sys-${commit}`, revision: 0n, type, created: new Date(), data: {}, metadata: undefined, position: { commit, prepare: commit },
});

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'OK';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
};

describe('EventStoreDB mapping: positions ↔ cursors', () => {
  it('formats commit/prepare as esdb:<commit>/<prepare> and parses it back exactly, beyond 2^53', () => {
    const p = { commit: 18_446_744_073_709_551_000n, prepare: 18_446_744_073_709_550_999n };
    expect(formatPosition(p)).toBe('esdb:18446744073709551000/18446744073709550999');
    expect(parsePosition(formatPosition(p))).toEqual(p);
    expect(parsePosition(null)).toBeNull();
    expect(parsePosition('')).toBeNull();
  });

  it('refuses anything else, including a PostgreSQL cursor, with VALIDATION_FAILED', () => {
    for (const bad of ['123:456', 'esdb:1', 'esdb:1/x', 'esdb:-1/2', 'ESDB:1/2', 'esdb:1/2 ', 'not-a-position'])
      expect(codeOf(() => parsePosition(bad))).toBe('VALIDATION_FAILED');
  });

  it('orders by commit, then prepare, numerically (not as strings); the beginning first', () => {
    expect(comparePositions('esdb:9/9', 'esdb:10/10')).toBeLessThan(0);
    expect(comparePositions('esdb:100/100', 'esdb:100/250')).toBeLessThan(0);
    expect(comparePositions('esdb:100/400', 'esdb:100/250')).toBeGreaterThan(0);
    expect(comparePositions('esdb:101/101', 'esdb:100/400')).toBeGreaterThan(0);
    expect(comparePositions('esdb:7/7', 'esdb:7/7')).toBe(0);
    expect(comparePositions('', 'esdb:0/0')).toBeLessThan(0);
    const sorted = ['esdb:10/10', 'esdb:2/2', 'esdb:10/3', 'esdb:100/1'].sort(comparePositions);
    expect(sorted).toEqual(['esdb:2/2', 'esdb:10/3', 'esdb:10/10', 'esdb:100/1']);
  });
});

describe('EventStoreDB mapping: versions ↔ revisions', () => {
  it('maps -1 to no_stream, n to the bigint n, and passes the markers through', () => {
    expect(toExpectedRevision(-1)).toBe('no_stream');
    expect(toExpectedRevision(0)).toBe(0n);
    expect(toExpectedRevision(41)).toBe(41n);
    expect(toExpectedRevision('any')).toBe('any');
    expect(toExpectedRevision('no_stream')).toBe('no_stream');
    expect(codeOf(() => toExpectedRevision(-2))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => toExpectedRevision(1.5))).toBe('VALIDATION_FAILED');
  });

  it('maps the reported current revision back: no_stream → -1, bigints → numbers', () => {
    expect(fromCurrentRevision('no_stream')).toBe(-1);
    expect(fromCurrentRevision(undefined)).toBe(-1);
    expect(fromCurrentRevision(7n)).toBe(7);
    expect(fromCurrentRevision('12')).toBe(12);
    expect(() => fromCurrentRevision(2n ** 60n)).toThrow(RangeError);
  });

  it('reads from a revision forwards, from the end backwards by default', () => {
    expect(toReadRevision(undefined, false)).toBe('start');
    expect(toReadRevision(undefined, true)).toBe('end');
    expect(toReadRevision(Number.MAX_SAFE_INTEGER, true)).toBe('end');
    expect(toReadRevision(7, false)).toBe(7n);
    expect(codeOf(() => toReadRevision(-3, false))).toBe('VALIDATION_FAILED');
  });
});

describe('EventStoreDB mapping: events', () => {
  it('keeps hash, previousHash and our metadata in the event metadata, and reads them back unchanged', () => {
    const e0 = prepared('case-1', 0, null, 'cmd-1');
    const env = toEnvelope(e0, 'append-x');
    expect(env).toMatchObject({ govcase: 1, hash: e0.hash, previousHash: null, metadata: e0.metadata, append: 'append-x', $correlationId: 'cmd-1' });
    const back = toRecorded(raw(e0, 500n, 500n));
    expect(back).toEqual({
      id: e0.id, streamId: 'case-1', revision: 0, position: 'esdb:500/500', type: 'CaseAccepted', data: { n: 0 },
      metadata: e0.metadata, recordedAt: '2026-03-02T01:00:01.234Z', hash: e0.hash, previousHash: null,
    });
    expect(eventHash(back.previousHash, back)).toBe(back.hash);
  });

  it('refuses to read an event govcase did not write, or one without a position', () => {
    expect(() => toRecorded(system('orders-1', 'OrderPlaced', 1n))).toThrow(/not written by govcase/);
    expect(() => toRecorded({ ...raw(prepared('case-1', 0, null), 1n, 1n), position: undefined })).toThrow(/no position/);
  });

  it('leaves out system events, system streams, command claims and foreign events from $all; skips what the cursor has passed', () => {
    const a = prepared('case-a', 0, null);
    const b = prepared('case-b', 0, null);
    const raws: RawEvent[] = [
      raw(a, 10n, 10n),
      system('$stats-127.0.0.1:2113', '$statsCollected', 20n),
      system('$$case-a', '$metadata', 30n),
      system('orders-1', 'OrderPlaced', 35n),
      { ...system(commandStreamName('cmd-9'), 'govcase.CommandClaimed', 40n) },
      raw(b, 50n, 50n),
    ];
    const all = eventsAfter(raws, null);
    expect(all.events.map((e) => e.streamId)).toEqual(['case-a', 'case-b']);
    expect(all.cursor).toEqual({ commit: 50n, prepare: 50n });
    // a read from a position is inclusive on the server, a re-subscription may repeat: the cursor decides
    expect(eventsAfter(raws, { commit: 10n, prepare: 10n }).events.map((e) => e.streamId)).toEqual(['case-b']);
    expect(eventsAfter(raws, { commit: 50n, prepare: 50n }).events).toEqual([]);
    expect(eventsAfter(raws, null, ['Nope']).events).toEqual([]);
    expect(isExcluded('case-1', '$>')).toBe(true);
    expect(isReservedStream('govcase-command-x')).toBe(true);
    expect(isReservedStream('case-1')).toBe(false);
  });

  it('the server-side filter regex lets case events through and stops $-types and claims', () => {
    const re = new RegExp(ALL_FILTER_REGEX);
    expect(re.test('CaseSubmitted')).toBe(true);
    expect(re.test('govcase.CommandClaimedLater')).toBe(true);
    expect(re.test('$statsCollected')).toBe(false);
    expect(re.test('$>')).toBe(false);
    expect(re.test('govcase.CommandClaimed')).toBe(false);
  });
});

describe('EventStoreDB mapping: idempotency', () => {
  const e0 = prepared('case-1', 3, 'h2', 'cmd-1', 0);
  const e1 = prepared('case-1', 4, e0.hash, 'cmd-1', 1);

  it('a read-back carrying our append id is our write', () => {
    const r = classifyReadBack([raw(e0, 70n, 70n, 'mine'), raw(e1, 70n, 90n, 'mine')], [e0, e1], 'mine', 'cmd-1');
    expect(r).toMatchObject({ status: 'ok' });
    expect((r as unknown as { events: { position: string }[] }).events.map((e) => e.position)).toEqual(['esdb:70/70', 'esdb:70/90']);
  });

  it('the same deterministic ids under another append id: EventStoreDB deduplicated a repeat → duplicate with the first record', () => {
    const r = classifyReadBack([raw(e0, 70n, 70n, 'first'), raw(e1, 70n, 90n, 'first')], [e0, e1], 'second', 'cmd-1');
    expect(r).toEqual({ status: 'duplicate', record: { commandId: 'cmd-1', streamId: 'case-1', fromRevision: 3, toRevision: 4, position: 'esdb:70/90' } });
  });

  it('anything else read back is an error, never a silent success', () => {
    const other = prepared('case-1', 3, 'h2', 'cmd-2', 0);
    expect(classifyReadBack([raw(other, 70n, 70n, 'x')], [e0], 'mine', 'cmd-1')).toBeInstanceOf(Error);
    expect(classifyReadBack([], [e0], 'mine', 'cmd-1')).toBeInstanceOf(Error);
    expect(classifyReadBack([raw(e0, 70n, 70n, 'x')], [e0], 'mine', undefined)).toBeInstanceOf(Error);
  });

  it('a claim is confirmed only by the claimed event at the claimed revision', () => {
    const claim = { streamId: 'case-1', fromRevision: 3, count: 2, firstEventId: e0.id };
    const found = [toRecorded(raw(e0, 70n, 70n)), toRecorded(raw(e1, 70n, 90n))];
    expect(commandRecordOf('cmd-1', claim, found)).toEqual({ commandId: 'cmd-1', streamId: 'case-1', fromRevision: 3, toRevision: 4, position: 'esdb:70/90' });
    // the append lost its race: someone else's event sits there
    const lost = [toRecorded(raw(prepared('case-1', 3, 'h2'), 70n, 70n))];
    expect(commandRecordOf('cmd-1', claim, lost)).toBeNull();
    // the append never happened
    expect(commandRecordOf('cmd-1', claim, [])).toBeNull();
    expect(commandStreamName('cmd-1')).toBe('govcase-command-cmd-1');
  });
});

describe('EventStoreDB mapping: errors', () => {
  const clientError = (type: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${type} happened`), { type, ...extra });

  it('wrong expected version → a conflict carrying the actual version', () => {
    expect(translateError(clientError('wrong-expected-version', { actualVersion: 5n }), 'append')).toEqual({ kind: 'conflict', actualVersion: 5 });
    expect(translateError(clientError('wrong-expected-version', { actualVersion: 'no_stream' }), 'append')).toEqual({ kind: 'conflict', actualVersion: -1 });
    const thrown = toThrowable(clientError('wrong-expected-version', { actualVersion: 2n }), 'append');
    expect(thrown).toBeInstanceOf(GovcaseError);
    expect((thrown as GovcaseError).code).toBe('CONCURRENCY_CONFLICT');
  });

  it('unavailable, deadline, timeout, not-leader, discovery failing, connection refused → UNAVAILABLE', () => {
    const cases: unknown[] = [
      clientError('unavailable'), clientError('deadline-exceeded'), clientError('timeout'), clientError('not-leader'),
      new Error('Failed to discover after 10 attempts.'),
      new Error('14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:2113.'),
    ];
    for (const err of cases) {
      const t = translateError(err, 'read');
      expect(t.kind).toBe('error');
      expect((t as { error: GovcaseError }).error).toBeInstanceOf(GovcaseError);
      expect((t as { error: GovcaseError }).error.code).toBe('UNAVAILABLE');
      expect((t as { error: GovcaseError }).error.message).toMatch(/^EventStoreDB is unavailable \(read\)/);
    }
  });

  it('a missing stream is "not found"; an oversized append is VALIDATION_FAILED; the rest passes through', () => {
    expect(translateError(clientError('stream-not-found'), 'read')).toEqual({ kind: 'not_found' });
    const big = translateError(clientError('maximum-append-size-exceeded'), 'append');
    expect((big as { error: GovcaseError }).error.code).toBe('VALIDATION_FAILED');
    const odd = clientError('access-denied');
    expect(translateError(odd, 'read')).toEqual({ kind: 'error', error: odd });
    const ours = new GovcaseError('NOT_FOUND', 'x');
    expect(translateError(ours, 'read')).toEqual({ kind: 'error', error: ours });
  });
});
