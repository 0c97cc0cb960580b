import { describe, expect, it } from 'vitest';
import { createCaseStateCache, type CachedCase } from '../../application/caseCache.ts';
import { initialCaseState } from '../../domain/case/state.ts';

const entry = (version: number): CachedCase => ({ state: initialCaseState(), version, head: { version, hash: `h${version}` }, position: `1:${version}` });

describe('createCaseStateCache', () => {
  it('keeps at most its size, dropping the least recently used first', () => {
    const c = createCaseStateCache(2);
    c.set('a', entry(0));
    c.set('b', entry(0));
    expect(c.get('a')?.version).toBe(0); // a is now the most recently used
    c.set('c', entry(0));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBeDefined();
    expect(c.get('c')).toBeDefined();
    expect(c.stats.size()).toBe(2);
    expect(c.stats).toMatchObject({ hits: 3, misses: 1 });
  });

  it('never steps back to an older version; delete forgets', () => {
    const c = createCaseStateCache(10);
    c.set('a', entry(3));
    c.set('a', entry(2));
    expect(c.get('a')?.version).toBe(3);
    c.set('a', entry(4));
    expect(c.get('a')?.version).toBe(4);
    c.delete('a');
    expect(c.get('a')).toBeUndefined();
  });

  it('refuses a size that is not a whole number ≥ 1', () => {
    expect(() => createCaseStateCache(0)).toThrow(RangeError);
    expect(() => createCaseStateCache(1.5)).toThrow(RangeError);
  });
});
