import { randomUUID } from 'node:crypto';
import { signToken } from '../../../graphql/auth.ts';

/**
 * A load generator that works cases through the real HTTP API the way clients should: every command
 * carries a commandId, and a command whose answer never arrived (connection reset, 5xx, UNAVAILABLE)
 * is retried with the same commandId until it is answered — so "acknowledged" means the server said
 * so, and a retry after a crash shows whether the first attempt had committed.
 * Each worker takes one case at a time through submit → accept → 3 review steps → decide → deliver →
 * evaluate, with the expected version of the case on every command after the first.
 */
export const DEPT = '520102-REL';
export const REGION = '520102';

export interface Ack {
  readonly commandId: string;
  readonly mutation: string;
  readonly caseId: string;
  readonly version: number;
  /** answered on a retry (the first attempt's answer was lost) */
  readonly afterRetry: boolean;
}

export interface Failure {
  readonly mutation: string;
  /** extensions.code, HTTP status, or the network error's code */
  readonly code: string;
  readonly ms: number;
  readonly at: number;
}

export interface LoadStats {
  /** requests sent (retries included) */
  attempted: number;
  /** distinct commands the server acknowledged */
  acknowledged: number;
  /** distinct commands started */
  commands: number;
  retries: number;
  /** commands abandoned with an answer that is not retryable (a bug unless the test expects it) */
  refused: { mutation: string; code: string; message: string }[];
  /** commands still without an answer when the load stopped */
  unresolved: { commandId: string; mutation: string; caseId: string | undefined }[];
  casesCompleted: number;
}

export interface Tokens {
  readonly admin: string;
  readonly applicant: string;
  readonly clerk: string;
  readonly reviewer: string;
}

export const makeTokens = async (secret: string): Promise<Tokens> => ({
  admin: await signToken(secret, { sub: 'rel-admin', roles: ['admin'] }, '6h'),
  applicant: await signToken(secret, { sub: 'rel-citizen', roles: ['applicant'], name: '可靠性' }, '6h'),
  clerk: await signToken(secret, { sub: 'rel-clerk', roles: ['clerk'], dept: DEPT, region: REGION }, '6h'),
  reviewer: await signToken(secret, { sub: 'rel-reviewer', roles: ['reviewer'], dept: DEPT, region: REGION }, '6h'),
});

export interface GqlAnswer {
  readonly status: number;
  readonly body: { data?: Record<string, any> | null; errors?: { message: string; extensions?: { code?: string } }[] } | null;
  readonly retryAfter: string | null;
}

export const post = async (url: string, query: string, variables: Record<string, unknown>, token?: string, timeoutMs = 20_000): Promise<GqlAnswer> => {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let body: GqlAnswer['body'] = null;
  try {
    body = JSON.parse(text) as GqlAnswer['body'];
  } catch {
    body = null;
  }
  return { status: res.status, body, retryAfter: res.headers.get('retry-after') };
};

export const publishItem = async (url: string, tokens: Tokens, itemCode: string) => {
  const r = await post(url, `mutation($i: ServiceItemInput!) { publishServiceItem(input: $i) { itemCode steps } }`, {
    i: {
      itemCode, name: '可靠性测试事项', itemType: '01', departmentCode: DEPT, departmentName: '南明区可靠性测试局', regionCode: REGION,
      caseType: 'PROMISED', legalLimitDays: 20, promisedLimitDays: 10, materials: [{ name: '申请书', provided: true }],
    },
  }, tokens.admin);
  if (r.status !== 200 || r.body?.errors) throw new Error(`publishServiceItem: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body!.data!.publishServiceItem.steps as string[];
};

type Step = { mutation: string; type: string; who: keyof Tokens; input: (caseId: string) => Record<string, unknown>; versioned: boolean };

const lifecycle = (itemCode: string, steps: readonly string[]): Step[] => [
  {
    mutation: 'submitCase', type: 'SubmitCaseInput', who: 'applicant', versioned: false,
    input: (caseId) => ({
      itemCode, caseId, channel: 'PC',
      applicant: { name: '可靠性', idType: '111', idNumber: '520102199001011234', phone: '13900000000' },
      materials: [{ name: '申请书', provided: true }],
    }),
  },
  { mutation: 'acceptCase', type: 'CaseCommandInput', who: 'clerk', versioned: true, input: (caseId) => ({ caseId }) },
  ...steps.map((step): Step => ({
    mutation: 'completeReviewStep', type: 'CompleteReviewStepInput', who: 'reviewer', versioned: true,
    input: (caseId) => ({ caseId, step, action: 'PASS', opinion: '同意' }),
  })),
  { mutation: 'decideCase', type: 'DecideCaseInput', who: 'reviewer', versioned: true, input: (caseId) => ({ caseId, outcome: 'APPROVED', licenceNumber: 'REL-1' }) },
  { mutation: 'deliverResult', type: 'DeliverResultInput', who: 'clerk', versioned: true, input: (caseId) => ({ caseId, method: 'WINDOW' }) },
  { mutation: 'evaluateCase', type: 'EvaluateCaseInput', who: 'applicant', versioned: false, input: (caseId) => ({ caseId, score: 5 }) },
];

/** Retryable: the answer may not reflect whether the command committed, or the server is away. */
const RETRYABLE = new Set(['UNAVAILABLE', 'INTERNAL', 'RATE_LIMITED', 'CONCURRENCY_CONFLICT']);

export interface LoadOptions {
  /** the server's current base URL (it changes when the server restarts) */
  readonly url: () => string;
  readonly tokens: Tokens;
  readonly itemCode: string;
  readonly steps: readonly string[];
  readonly workers: number;
  /** pause between commands per worker (ms), to hold a rate instead of saturating */
  readonly pauseMs?: number;
}

export interface Load {
  readonly acks: Map<string, Ack>;
  readonly failures: Failure[];
  readonly stats: LoadStats;
  /** resolves once every worker has stopped; in-flight commands get `graceMs` to be answered */
  stop(graceMs?: number): Promise<void>;
  /** acknowledged commands so far */
  readonly acked: () => number;
}

export const startLoad = (options: LoadOptions): Load => {
  const acks = new Map<string, Ack>();
  const failures: Failure[] = [];
  const stats: LoadStats = { attempted: 0, acknowledged: 0, commands: 0, retries: 0, refused: [], unresolved: [], casesCompleted: 0 };
  const plan = lifecycle(options.itemCode, options.steps);
  let stopping = false;
  let hardStop = false;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const runCommand = async (step: Step, caseId: string, version: number | null): Promise<Ack | null> => {
    const commandId = randomUUID();
    stats.commands++;
    const input = { ...step.input(caseId), commandId, ...(step.versioned && version !== null ? { expectedVersion: version } : {}) };
    const query = `mutation($i: ${step.type}!) { r: ${step.mutation}(input: $i) { caseId version } }`;
    for (let attempt = 0; ; attempt++) {
      if (hardStop) {
        stats.unresolved.push({ commandId, mutation: step.mutation, caseId });
        return null;
      }
      if (attempt > 0) stats.retries++;
      stats.attempted++;
      const t0 = Date.now();
      let code: string;
      try {
        const r = await post(options.url(), query, { i: input }, options.tokens[step.who]);
        const result = r.body?.data?.r as { caseId: string; version: number } | undefined;
        if (r.status === 200 && result && !r.body?.errors) {
          const ack: Ack = { commandId, mutation: step.mutation, caseId: result.caseId, version: result.version, afterRetry: attempt > 0 };
          acks.set(commandId, ack);
          stats.acknowledged++;
          return ack;
        }
        code = r.body?.errors?.[0]?.extensions?.code ?? `HTTP_${r.status}`;
        if (!RETRYABLE.has(code) && r.status < 500) {
          stats.refused.push({ mutation: step.mutation, code, message: r.body?.errors?.[0]?.message ?? '' });
          return null;
        }
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause;
        code = cause?.code ?? (err as Error).name ?? 'NETWORK';
      }
      failures.push({ mutation: step.mutation, code, ms: Date.now() - t0, at: t0 });
      await sleep(100 + Math.random() * 200);
    }
  };

  const worker = async () => {
    while (!stopping) {
      const caseId = randomUUID();
      let version: number | null = null;
      let done = true;
      for (const step of plan) {
        if (stopping && step !== plan[0]) { done = false; break; }
        if (stopping) return;
        const ack = await runCommand(step, caseId, version);
        if (!ack) { done = false; break; }
        version = ack.version;
        if (options.pauseMs) await sleep(options.pauseMs);
      }
      if (done) stats.casesCompleted++;
    }
  };

  const workers = Array.from({ length: options.workers }, () => worker());
  return {
    acks,
    failures,
    stats,
    acked: () => stats.acknowledged,
    async stop(graceMs = 60_000) {
      stopping = true;
      const t = setTimeout(() => { hardStop = true; }, graceMs);
      await Promise.all(workers);
      clearTimeout(t);
    },
  };
};
