import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Secrets from the environment; in development, generated once and kept under GOVCASE_HOME (0600),
 * never in the database. Production requires them in the environment.
 */
export const loadOrCreateSecret = async (options: {
  readonly name: string;
  readonly value: string | undefined;
  readonly home: string;
  readonly production: boolean;
  readonly bytes?: number;
  readonly log?: (msg: string) => void;
}): Promise<string> => {
  if (options.value) return options.value;
  if (options.production) throw new Error(`${options.name} is required when NODE_ENV=production`);
  const file = path.join(options.home, `${options.name.toLowerCase()}.hex`);
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(options.home, { recursive: true });
  const value = randomBytes(options.bytes ?? 16).toString('hex');
  await writeFile(file, `${value}\n`, { mode: 0o600 });
  options.log?.(`${options.name} not set: generated a development key in ${file}`);
  return value;
};

/** A keyed SM3 HMAC: searching by ID number without storing it in the clear (one definition, the vault's). */
export { blindIndexFor as createBlindIndex } from '../application/personalData.ts';
