import type { CaseEvent } from '../domain/case/events.ts';
import { caseStreamId } from '../domain/case/events.ts';
import { upcastCaseEventData } from '../domain/case/upcasters.ts';
import { evolve, initialCaseState, type CaseState } from '../domain/case/state.ts';
import type { EventStore, Position, RecordedEvent, StreamHead } from './eventStore.ts';

/**
 * Reading a case back: the one place stored events become domain events (where an upcaster for
 * older shapes plugs in), and the fold.
 */
export const toCaseEvent = (e: RecordedEvent): CaseEvent => ({ type: e.type, data: upcastCaseEventData(e.type, e.data) }) as CaseEvent;

export interface LoadedCase {
  readonly state: CaseState;
  /** -1 when the stream does not exist */
  readonly version: number;
  readonly head: StreamHead | null;
  /** The position of the last event (null when the stream does not exist). */
  readonly position: Position | null;
  /** The events read (empty when the state came from the write side's cache). */
  readonly events: readonly RecordedEvent[];
}

export const foldCase = (events: readonly RecordedEvent[], from: CaseState = initialCaseState()): CaseState =>
  events.reduce((s, e) => evolve(s, toCaseEvent(e), e.metadata.occurredAt), from);

export const loadCase = async (store: EventStore, caseId: string): Promise<LoadedCase> => {
  const events = await store.readStream(caseStreamId(caseId));
  const last = events[events.length - 1];
  return {
    state: foldCase(events),
    version: last ? last.revision : -1,
    head: last ? { version: last.revision, hash: last.hash } : null,
    position: last?.position ?? null,
    events,
  };
};
