import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Applicant, ApplicantRecord, SealedApplicant, SealedPersonalData } from '../domain/case/events.ts';
import { isSealedApplicant } from '../domain/case/events.ts';

/**
 * Personal data protection (GB/T 39786, 等保): the applicant's personal fields are sealed with SM4 under a
 * key of their own data subject before anything reaches the event store, and opened only where a
 * reader may see them. Destroying a subject's key (crypto-shredding) erases them everywhere at once —
 * events, hashes and backups stay as they were, the ciphertext becomes noise.
 *
 * Keys: each subject's 32-byte data key (16 bytes SM4, 16 bytes HMAC-SM3) is stored wrapped by the
 * master key (SM4-CTR + HMAC-SM3 bound to the subject) in a `KeyRing`; the master key never leaves
 * the process environment.
 */

export const SEAL_SCHEME = 'SM4-CTR+HMAC-SM3/v1' as const;

/** The personal values inside one seal: the applicant's fields plus any form fields the item marks as personal. */
export interface PersonalValues {
  readonly name: string;
  readonly idNumber: string;
  readonly phone?: string | undefined;
  readonly address?: string | undefined;
  readonly form?: Readonly<Record<string, unknown>> | undefined;
}

export interface OpenedApplicant {
  readonly applicant: Applicant;
  readonly personalForm: Readonly<Record<string, unknown>>;
}

/** Where wrapped data keys live (PostgreSQL table `personal_data_keys`): never a key in the clear. */
export interface KeyRing {
  /** Stores `wrapped` unless the subject has a key already; returns the subject's wrapped key either way. */
  putIfAbsent(subject: string, wrapped: Buffer): Promise<Buffer>;
  get(subjects: readonly string[]): Promise<Map<string, Buffer>>;
  /** Destroys the subject's key and records the erasure; true when a key existed. */
  destroy(subject: string, record: { readonly legalBasis: string; readonly actorId: string }): Promise<boolean>;
}

export interface PersonalDataVault {
  /** The keyed blind index of an ID number: names the subject, searchable, not reversible without the master key. */
  subjectOf(idNumber: string): string;
  seal(applicant: Applicant, personalForm?: Readonly<Record<string, unknown>>): Promise<SealedApplicant>;
  /** The plain applicant, or null when the subject's key is gone (erased). A plain record is returned as it is. */
  open(record: ApplicantRecord): Promise<OpenedApplicant | null>;
  /** Opens many at once (one key look-up); the result is index-aligned with the input. */
  openMany(records: readonly ApplicantRecord[]): Promise<(OpenedApplicant | null)[]>;
  erase(subject: string, record: { readonly legalBasis: string; readonly actorId: string }): Promise<boolean>;
}

const hmac = (key: Buffer, ...parts: (string | Buffer)[]) => {
  const h = createHmac('sm3', key);
  for (const p of parts) {
    const b = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
    // length-prefixed, so no two different part lists authenticate alike
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    h.update(len).update(b);
  }
  return h.digest();
};

const sm4ctr = (key: Buffer, iv: Buffer, input: Buffer) => {
  const c = createCipheriv('sm4-ctr', key, iv);
  return Buffer.concat([c.update(input), c.final()]);
};
const sm4ctrDecrypt = (key: Buffer, iv: Buffer, input: Buffer) => {
  const d = createDecipheriv('sm4-ctr', key, iv);
  return Buffer.concat([d.update(input), d.final()]);
};

const macEqual = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

export class SealError extends Error {}

/** Key material derived from the master key for one purpose each. */
const derive = (master: Buffer, purpose: string) => createHmac('sm3', master).update(`govcase/${purpose}`).digest();

export interface VaultOptions {
  readonly masterKeyHex: string;
  readonly keys: KeyRing;
  /** Data keys kept unwrapped in memory (per process); erasure here evicts at once. */
  readonly cacheSize?: number;
  /** How long an unwrapped key may be reused before the ring is asked again (bounds an erasure done by another node). */
  readonly cacheTtlMs?: number;
  readonly now?: () => number;
}

const masterKeyBytes = (masterKeyHex: string): Buffer => {
  const master = Buffer.from(masterKeyHex, 'hex');
  if (master.length !== 16) throw new Error('GOVCASE_MASTER_KEY must be 16 bytes (32 hex characters)');
  return master;
};

/** The keyed SM3 blind index of an ID number (case and spaces ignored): search without the plaintext. */
export const blindIndexFor = (masterKeyHex: string): ((idNumber: string) => string) => {
  const indexKey = derive(masterKeyBytes(masterKeyHex), 'blind-index/v1');
  return (idNumber) => createHmac('sm3', indexKey).update(idNumber.trim().toUpperCase()).digest('hex');
};

export const createVault = (options: VaultOptions): PersonalDataVault => {
  const master = masterKeyBytes(options.masterKeyHex);
  const wrapEnc = derive(master, 'kek/enc/v1').subarray(0, 16);
  const wrapMac = derive(master, 'kek/mac/v1');
  const cacheSize = options.cacheSize ?? 50_000;
  const ttl = options.cacheTtlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { key: Buffer; at: number }>();

  const subjectOf = blindIndexFor(options.masterKeyHex);

  const wrap = (subject: string, dataKey: Buffer): Buffer => {
    const iv = randomBytes(16);
    const ct = sm4ctr(wrapEnc, iv, dataKey);
    return Buffer.concat([iv, ct, hmac(wrapMac, subject, iv, ct)]);
  };
  const unwrap = (subject: string, wrapped: Buffer): Buffer => {
    const iv = wrapped.subarray(0, 16);
    const ct = wrapped.subarray(16, 48);
    const mac = wrapped.subarray(48);
    if (!macEqual(mac, hmac(wrapMac, subject, iv, ct))) throw new SealError(`the data key of subject ${subject.slice(0, 12)}… does not authenticate under this master key`);
    return sm4ctrDecrypt(wrapEnc, iv, ct);
  };

  const remember = (subject: string, key: Buffer) => {
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
    cache.set(subject, { key, at: now() });
  };
  const cached = (subject: string): Buffer | undefined => {
    const hit = cache.get(subject);
    if (!hit) return undefined;
    if (now() - hit.at > ttl) {
      cache.delete(subject);
      return undefined;
    }
    return hit.key;
  };

  const keyFor = async (subject: string): Promise<Buffer> => {
    const hit = cached(subject);
    if (hit) return hit;
    const fresh = randomBytes(32);
    const stored = await options.keys.putIfAbsent(subject, wrap(subject, fresh));
    const key = unwrap(subject, stored);
    remember(subject, key);
    return key;
  };

  const keysFor = async (subjects: readonly string[]): Promise<Map<string, Buffer>> => {
    const out = new Map<string, Buffer>();
    const missing: string[] = [];
    for (const s of new Set(subjects)) {
      const hit = cached(s);
      if (hit) out.set(s, hit);
      else missing.push(s);
    }
    if (missing.length > 0) {
      const wrapped = await options.keys.get(missing);
      for (const [s, w] of wrapped) {
        const key = unwrap(s, w);
        remember(s, key);
        out.set(s, key);
      }
    }
    return out;
  };

  const sealWith = (key: Buffer, subject: string, values: PersonalValues): SealedPersonalData => {
    const iv = randomBytes(16);
    const data = sm4ctr(key.subarray(0, 16), iv, Buffer.from(JSON.stringify(values), 'utf8'));
    const mac = hmac(key.subarray(16), SEAL_SCHEME, subject, iv, data);
    return { scheme: SEAL_SCHEME, subject, iv: iv.toString('hex'), data: data.toString('base64'), mac: mac.toString('hex') };
  };

  const openWith = (key: Buffer, sealed: SealedPersonalData): PersonalValues => {
    const iv = Buffer.from(sealed.iv, 'hex');
    const data = Buffer.from(sealed.data, 'base64');
    if (!macEqual(Buffer.from(sealed.mac, 'hex'), hmac(key.subarray(16), sealed.scheme, sealed.subject, iv, data)))
      throw new SealError(`sealed personal data of subject ${sealed.subject.slice(0, 12)}… fails authentication (altered?)`);
    return JSON.parse(sm4ctrDecrypt(key.subarray(0, 16), iv, data).toString('utf8')) as PersonalValues;
  };

  const opened = (a: SealedApplicant, v: PersonalValues): OpenedApplicant => ({
    applicant: {
      name: v.name, idType: a.idType, idNumber: v.idNumber,
      ...(v.phone !== undefined ? { phone: v.phone } : {}),
      ...(v.address !== undefined ? { address: v.address } : {}),
      ...(a.kind !== undefined ? { kind: a.kind } : {}),
    },
    personalForm: v.form ?? {},
  });

  const openMany = async (records: readonly ApplicantRecord[]): Promise<(OpenedApplicant | null)[]> => {
    const subjects = records.filter(isSealedApplicant).map((r) => r.sealed.subject);
    const keys = subjects.length > 0 ? await keysFor(subjects) : new Map<string, Buffer>();
    return records.map((r) => {
      if (!isSealedApplicant(r)) return { applicant: r, personalForm: {} };
      const key = keys.get(r.sealed.subject);
      return key ? opened(r, openWith(key, r.sealed)) : null;
    });
  };

  return {
    subjectOf,
    seal: async (applicant, personalForm) => {
      const subject = subjectOf(applicant.idNumber);
      const key = await keyFor(subject);
      const values: PersonalValues = {
        name: applicant.name, idNumber: applicant.idNumber,
        ...(applicant.phone !== undefined ? { phone: applicant.phone } : {}),
        ...(applicant.address !== undefined ? { address: applicant.address } : {}),
        ...(personalForm && Object.keys(personalForm).length > 0 ? { form: personalForm } : {}),
      };
      return { idType: applicant.idType, ...(applicant.kind !== undefined ? { kind: applicant.kind } : {}), sealed: sealWith(key, subject, values) };
    },
    open: async (record) => (await openMany([record]))[0] ?? null,
    openMany,
    erase: async (subject, record) => {
      cache.delete(subject);
      const existed = await options.keys.destroy(subject, record);
      cache.delete(subject);
      return existed;
    },
  };
};

/** Splits a form into what the item marks as personal (sealed) and the rest (kept readable). */
export const splitPersonalForm = (
  formData: Readonly<Record<string, unknown>> | undefined,
  personalFields: readonly string[] | undefined,
): { readonly open: Record<string, unknown> | undefined; readonly personal: Record<string, unknown> } => {
  if (!formData) return { open: undefined, personal: {} };
  const marked = new Set(personalFields ?? []);
  const open: Record<string, unknown> = {};
  const personal: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(formData)) (marked.has(k) ? personal : open)[k] = v;
  return { open, personal };
};
