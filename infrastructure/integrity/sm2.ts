import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sm2 } from 'sm-crypto-v2';
import type { SignatureCheck, Signer } from '../../domain/integrity/checkpoint.ts';

/**
 * SM2 signatures for integrity checkpoints (GB/T 32918, via sm-crypto-v2): SM3 over Z‖M, where Z is
 * the SM3 digest of the default user id "1234567812345678" and the public key (GM/T 0009), and the
 * signature DER-encoded (hex). The private key comes from GOVCASE_SIGNING_KEY (64 hex characters) or
 * the file named by GOVCASE_SIGNING_KEY_FILE; in development one is generated once under GOVCASE_HOME
 * (mode 0600). It is never stored in the database.
 */
const SIGN_OPTIONS = { hash: true, der: true } as const;
const HEX64 = /^[0-9a-fA-F]{64}$/;

export const sm2Signer = (privateKeyHex: string): Signer => {
  if (!HEX64.test(privateKeyHex)) throw new Error('the SM2 signing key must be 64 hex characters');
  const privateKey = privateKeyHex.toLowerCase();
  const publicKey = sm2.getPublicKeyFromPrivateKey(privateKey);
  return { publicKey, sign: (message) => sm2.doSignature(message, privateKey, { ...SIGN_OPTIONS, publicKey }) };
};

export const sm2Check: SignatureCheck = (message, signature, publicKey) => {
  try {
    return /^[0-9a-fA-F]+$/.test(signature) && /^04[0-9a-fA-F]{128}$/.test(publicKey) && sm2.doVerifySignature(message, signature, publicKey, SIGN_OPTIONS);
  } catch {
    return false;
  }
};

export const isPublicKeyHex = (v: string) => /^04[0-9a-fA-F]{128}$/.test(v);

export const generateSigningKey = (): string => sm2.generateKeyPairHex().privateKey.padStart(64, '0');

export const loadSigningKey = async (options: {
  readonly value: string | undefined;
  readonly file: string | undefined;
  readonly home: string;
  readonly production: boolean;
  readonly log?: (msg: string) => void;
}): Promise<string> => {
  if (options.value) return options.value;
  if (options.file) {
    const v = (await readFile(options.file, 'utf8')).trim();
    if (!HEX64.test(v)) throw new Error(`GOVCASE_SIGNING_KEY_FILE ${options.file}: not 64 hex characters`);
    return v;
  }
  if (options.production) throw new Error('GOVCASE_SIGNING_KEY or GOVCASE_SIGNING_KEY_FILE is required when NODE_ENV=production');
  const file = path.join(options.home, 'govcase_signing_key.hex');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(options.home, { recursive: true });
  const key = generateSigningKey();
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  options.log?.(`GOVCASE_SIGNING_KEY not set: generated a development SM2 signing key in ${file}`);
  return key;
};
