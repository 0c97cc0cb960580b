import { sm2 } from 'sm-crypto-v2';
import { toHubMessages, type HubMessage } from '../../domain/exchange/targets.ts';
import { byCase, errorText, type Delivery, type DeliveryOutcome, type TargetAdapter } from './types.ts';

/**
 * The 好差评 hub: per delivery, its messages (service record, or evaluation) POSTed as JSON in an
 * envelope signed with SM2 (SM3 with the signer's Z value, DER, hex). The envelope's `nonce` is the
 * outbox idempotency key (also sent as `Idempotency-Key`); a hub answering "评价数据不可重复" (or code
 * DUPLICATE / HTTP 409) has it already: that counts as delivered.
 */
export interface HubEnvelope {
  readonly appCode: string;
  readonly msgType: 'pushService' | 'pushEvaluation';
  readonly timestamp: string;
  readonly nonce: string;
  readonly data: HubMessage['body'];
  /** SM2 signature over signingString(envelope without sign) */
  readonly sign: string;
}

export const signingString = (e: Omit<HubEnvelope, 'sign'>): string =>
  `appCode=${e.appCode}&msgType=${e.msgType}&nonce=${e.nonce}&timestamp=${e.timestamp}&data=${JSON.stringify(e.data)}`;

export const signEnvelope = (e: Omit<HubEnvelope, 'sign'>, privateKeyHex: string, publicKeyHex = publicKeyOf(privateKeyHex)): HubEnvelope => ({
  ...e,
  sign: sm2.doSignature(signingString(e), privateKeyHex, { hash: true, der: true, publicKey: publicKeyHex }),
});

export const verifyEnvelope = (e: HubEnvelope, publicKeyHex: string): boolean => {
  const { sign, ...rest } = e;
  return sm2.doVerifySignature(signingString(rest), sign, publicKeyHex, { hash: true, der: true });
};

export const publicKeyOf = (privateKeyHex: string): string => sm2.getPublicKeyFromPrivateKey(privateKeyHex);

export interface HaochapingOptions {
  readonly url: string;
  readonly signingKey: string;
  readonly appCode?: string;
  readonly dataSource?: string;
  readonly timeoutMs?: number;
  /** cases delivered at once (in order within each case) */
  readonly concurrency?: number;
}

const DUPLICATE = '评价数据不可重复';

type Answer = { ok: true; duplicate: boolean } | { ok: false; error: string };

export const classifyAnswer = (status: number, text: string): Answer => {
  let body: { code?: unknown; msg?: unknown; message?: unknown; success?: unknown } = {};
  try { body = JSON.parse(text) as typeof body; } catch { /* not JSON */ }
  const code = body.code === undefined ? undefined : String(body.code);
  if (text.includes(DUPLICATE) || code === 'DUPLICATE' || status === 409) return { ok: true, duplicate: true };
  if (status >= 200 && status < 300 && (code === undefined || ['0', '200', '00000'].includes(code)) && body.success !== false)
    return { ok: true, duplicate: false };
  return { ok: false, error: `HTTP ${status}${code ? ` code ${code}` : ''}: ${text.slice(0, 300)}` };
};

export const createHaochapingAdapter = (options: HaochapingOptions): TargetAdapter => {
  const appCode = options.appCode ?? 'govcase';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const concurrency = options.concurrency ?? 16;
  const publicKey = publicKeyOf(options.signingKey);

  const post = async (message: HubMessage, nonce: string): Promise<Answer> => {
    const envelope = signEnvelope({
      appCode, msgType: message.kind === 'service' ? 'pushService' : 'pushEvaluation',
      timestamp: new Date().toISOString(), nonce, data: message.body,
    }, options.signingKey, publicKey);
    const res = await fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'idempotency-key': nonce },
      body: JSON.stringify(envelope),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return classifyAnswer(res.status, await res.text());
  };

  const deliverOne = async (d: Delivery): Promise<DeliveryOutcome> => {
    try {
      const messages = d.context ? d.records.flatMap((r) => toHubMessages(r, d.context!, options.dataSource)) : [];
      let duplicate = false;
      for (const [i, m] of messages.entries()) {
        const answer = await post(m, messages.length === 1 ? d.row.idempotencyKey : `${d.row.idempotencyKey}:${i}`);
        if (!answer.ok) return { id: d.row.id, status: 'failed', error: answer.error };
        duplicate ||= answer.duplicate;
      }
      return { id: d.row.id, status: 'delivered', duplicate };
    } catch (err) {
      return { id: d.row.id, status: 'failed', error: errorText((err as { cause?: unknown }).cause ?? err) };
    }
  };

  return {
    target: 'haochaping',
    async deliver(batch) {
      const outcomes = new Map<string, DeliveryOutcome>();
      const groups = byCase(batch);
      let next = 0;
      const worker = async () => {
        while (next < groups.length) {
          const group = groups[next++]!;
          let failed = false;
          for (const d of group) {
            if (failed) { outcomes.set(d.row.id, { id: d.row.id, status: 'skipped' }); continue; }
            const o = await deliverOne(d);
            outcomes.set(d.row.id, o);
            failed = o.status === 'failed';
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, groups.length) }, worker));
      return batch.map((d) => outcomes.get(d.row.id)!);
    },
    async close() {},
  };
};
