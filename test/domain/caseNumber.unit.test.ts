import { describe, it, expect } from 'vitest';
import { checkCharacter, formatCaseNumber, isValidCaseNumber } from '../../domain/caseNumber.ts';

/**
 * ISO 7064 MOD 11-2 written out independently, as GB 11643 defines it for the resident ID:
 * a digit string with its check character appended is valid when Σ aᵢ·2^(i-1) ≡ 1 (mod 11), i counted
 * from the right (the check character is i = 1 and X stands for 10).
 */
const satisfiesMod11_2 = (withCheck: string): boolean => {
  let sum = 0;
  const n = withCheck.length;
  for (let k = 0; k < n; k++) {
    const ch = withCheck[k]!;
    const value = ch === 'X' ? 10 : Number(ch);
    let weight = 1;
    for (let j = 0; j < n - 1 - k; j++) weight = (weight * 2) % 11;
    sum += value * weight;
  }
  return sum % 11 === 1;
};

/** A deterministic pseudo-random digit string (LCG), so failures reproduce. */
const digitStrings = (count: number, length: number): string[] => {
  let seed = 20261125;
  const out: string[] = [];
  for (let c = 0; c < count; c++) {
    let s = '';
    for (let i = 0; i < length; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      s += String(seed % 10);
    }
    out.push(s);
  }
  return out;
};

describe('checkCharacter (ISO 7064 MOD 11-2)', () => {
  it('agrees with real resident ID numbers (GB 11643 examples)', () => {
    // 11010519491231002X: weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 give Σ = 167, 167 mod 11 = 2 → X
    expect(checkCharacter('11010519491231002')).toBe('X');
    expect(satisfiesMod11_2('11010519491231002X')).toBe(true);
    expect(checkCharacter('44052418800101001')).toBe('4');
    expect(satisfiesMod11_2('440524188001010014')).toBe(true);
  });

  it('makes every 17- and 20-digit string satisfy the MOD 11-2 check equation', () => {
    for (const length of [17, 20])
      for (const s of digitStrings(500, length)) expect(satisfiesMod11_2(s + checkCharacter(s)), s).toBe(true);
  });

  it('gives every check value, X included', () => {
    const seen = new Set(digitStrings(2000, 20).map(checkCharacter));
    expect([...seen].sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X']);
  });
});

describe('case numbers', () => {
  it('formats region-date-serial-check', () => {
    // 52010220261125000123: the check character is 0
    expect(formatCaseNumber('520102', '2026-11-25', 123)).toBe('520102-20261125-000123-0');
    expect(formatCaseNumber('520102', '2026-09-29', 1)).toBe('520102-20260929-000001-0');
    expect(formatCaseNumber('520000', '2025-01-02', 999_999)).toMatch(/^520000-20250102-999999-[0-9X]$/);
  });

  it('accepts what it formats', () => {
    for (let serial = 1; serial <= 500; serial++) expect(isValidCaseNumber(formatCaseNumber('520102', '2026-11-25', serial))).toBe(true);
  });

  it('catches every single mistyped digit and every swap of two adjacent different digits', () => {
    const good = formatCaseNumber('520102', '2026-11-25', 123);
    const positions = [...good].map((c, i) => (/\d/.test(c) ? i : -1)).filter((i) => i >= 0 && i < good.length - 2);
    for (const i of positions) {
      for (const d of '0123456789') {
        if (d === good[i]) continue;
        const typo = good.slice(0, i) + d + good.slice(i + 1);
        expect(isValidCaseNumber(typo), typo).toBe(false);
      }
      const j = i + 1;
      if (positions.includes(j) && good[i] !== good[j]) {
        const swapped = good.slice(0, i) + good[j] + good[i] + good.slice(j + 1);
        expect(isValidCaseNumber(swapped), swapped).toBe(false);
      }
    }
  });

  it('refuses a wrong check character and malformed numbers', () => {
    expect(isValidCaseNumber('520102-20261125-000123-7')).toBe(false);
    expect(isValidCaseNumber('520102-20261125-000123-x')).toBe(false);
    expect(isValidCaseNumber('52010220261125000123-0')).toBe(false);
    expect(isValidCaseNumber('520102-20261125-123-0')).toBe(false);
    expect(isValidCaseNumber('')).toBe(false);
  });

  it('refuses a bad region code or serial', () => {
    expect(() => formatCaseNumber('5201', '2026-11-25', 1)).toThrow(RangeError);
    expect(() => formatCaseNumber('520102', '2026-11-25', 0)).toThrow(RangeError);
    expect(() => formatCaseNumber('520102', '2026-11-25', 1_000_000)).toThrow(RangeError);
    expect(() => formatCaseNumber('520102', '2026-11-25', 1.5)).toThrow(RangeError);
  });
});
