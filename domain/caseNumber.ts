/**
 * 办件编号: `<region>-<yyyymmdd>-<serial>-<check>`, e.g. `520102-20261125-000123-0`.
 * Region and date say where and when it was filed; the serial counts per region and day; the check
 * character (ISO 7064 MOD 11-2, as on the resident ID card) catches a mistyped number at the window
 * before any lookup.
 */
const WEIGHTS_MOD = 11;

export const checkCharacter = (digits: string): string => {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const weight = 2 ** (digits.length - i) % WEIGHTS_MOD;
    sum += Number(digits[i]) * weight;
  }
  const c = (12 - (sum % 11)) % 11;
  return c === 10 ? 'X' : String(c);
};

export const formatCaseNumber = (regionCode: string, date: string, serial: number): string => {
  if (!/^\d{6}$/.test(regionCode)) throw new RangeError(`region code must be 6 digits: ${regionCode}`);
  if (!Number.isInteger(serial) || serial < 1 || serial > 999_999) throw new RangeError(`serial out of range: ${serial}`);
  const ymd = date.replaceAll('-', '');
  const s = String(serial).padStart(6, '0');
  return `${regionCode}-${ymd}-${s}-${checkCharacter(`${regionCode}${ymd}${s}`)}`;
};

export const isValidCaseNumber = (value: string): boolean => {
  const m = /^(\d{6})-(\d{8})-(\d{6})-([0-9X])$/.exec(value);
  return m !== null && checkCharacter(`${m[1]}${m[2]}${m[3]}`) === m[4];
};
