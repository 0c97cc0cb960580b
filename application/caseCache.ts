import type { CaseState } from '../domain/case/state.ts';
import type { Position, StreamHead } from './eventStore.ts';

/**
 * The write side's memory of cases it handled: each case's folded state as of its last command in
 * this process, so the next command on it decides without reading its stream again.
 *
 * Nothing here is trusted. A command decided on a remembered state appends with that state's version
 * as the expected version, so the store proves the memory current (another node, the deadline clock
 * or an erasure that appended meanwhile makes the append a conflict; the command is then decided
 * again on the stream as read). A refusal or a no-op decided on a remembered state is never answered
 * from it: the stream is read and the command decided again (application/cases.ts).
 *
 * Bounded: least recently used entries go first. One entry holds what the state holds (the item's
 * rules are shared with the service-item cache; the applicant's data is sealed).
 */
export interface CachedCase {
  readonly state: CaseState;
  /** The stream's version the state was folded to (≥ 0). */
  readonly version: number;
  readonly head: StreamHead;
  /** The position of the last event folded. */
  readonly position: Position | null;
}

export interface CaseStateCache {
  get(caseId: string): CachedCase | undefined;
  set(caseId: string, entry: CachedCase): void;
  delete(caseId: string): void;
  readonly stats: { hits: number; misses: number; readonly size: () => number };
}

export const createCaseStateCache = (maxEntries: number): CaseStateCache => {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`case cache size must be a whole number ≥ 1, got ${maxEntries}`);
  // a Map keeps insertion order: re-inserting on use makes its first key the least recently used
  const entries = new Map<string, CachedCase>();
  const stats = { hits: 0, misses: 0, size: () => entries.size };
  return {
    get(caseId) {
      const e = entries.get(caseId);
      if (e === undefined) {
        stats.misses++;
        return undefined;
      }
      stats.hits++;
      entries.delete(caseId);
      entries.set(caseId, e);
      return e;
    },
    set(caseId, entry) {
      const old = entries.get(caseId);
      // never step back: a slower command's older state must not replace a newer one
      if (old !== undefined && old.version > entry.version) return;
      entries.delete(caseId);
      entries.set(caseId, entry);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    delete(caseId) {
      entries.delete(caseId);
    },
    stats,
  };
};
