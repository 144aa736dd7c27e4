// Fault injection for tests: what can go wrong with a real vLLM server, on demand. Faults apply to
// POST /v1/completions (the sampling traffic); /health, /v1/models and /tokenize stay truthful
// unless `unhealthy` is set. Decisions come from a seeded generator (or a fixed cyclic pattern),
// so a test sees the same faults on every run.
import { rngFrom, type Rng } from './rng';

export type FaultKind = 'ok' | '500' | 'reset' | 'malformed';
export const FAULT_KINDS: readonly FaultKind[] = ['ok', '500', 'reset', 'malformed'];

export interface FaultPlan {
  /** Extra delay per completion request, ms (a timer, never a busy wait). */
  latencyMs?: number;
  /** Uniform extra delay in [0, jitterMs). */
  jitterMs?: number;
  /** Fractions of completion requests answered with 500, a dropped connection, or a 200 whose
   * body is cut-off JSON. */
  error500?: number;
  reset?: number;
  malformed?: number;
  /** Cycled per completion request instead of the fractions (e.g. ['ok', '500', 'reset']). */
  pattern?: FaultKind[];
  /** Close the listener (dropping open connections) after every K completion requests, and
   * reopen it on the same port `restartDownMs` later. */
  restartEvery?: number;
  restartDownMs?: number;
  /** GET /health answers 503. */
  unhealthy?: boolean;
  /** Seed of the fault decisions. */
  seed?: number;
}

export class FaultInjector {
  private rng: Rng;
  private n = 0;
  constructor(private plan: FaultPlan = {}) {
    validatePlan(plan);
    this.rng = rngFrom(plan.seed ?? 1);
  }

  get current(): Readonly<FaultPlan> {
    return this.plan;
  }

  set(plan: FaultPlan): void {
    validatePlan(plan);
    this.plan = plan;
    this.rng = rngFrom(plan.seed ?? 1);
    this.n = 0;
  }

  /** The fault for the next completion request. */
  next(): FaultKind {
    const i = this.n++;
    const p = this.plan;
    if (p.pattern && p.pattern.length > 0) return p.pattern[i % p.pattern.length];
    const r = this.rng();
    let acc = p.error500 ?? 0;
    if (r < acc) return '500';
    acc += p.reset ?? 0;
    if (r < acc) return 'reset';
    acc += p.malformed ?? 0;
    if (r < acc) return 'malformed';
    return 'ok';
  }

  delayMs(): number {
    const base = this.plan.latencyMs ?? 0;
    const jitter = this.plan.jitterMs ?? 0;
    return base + (jitter > 0 ? Math.floor(this.rng() * jitter) : 0);
  }
}

function validatePlan(p: FaultPlan): void {
  const frac = (name: string, v: number | undefined) => {
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new Error(`fault ${name} must be a fraction in [0, 1] (got ${v})`);
  };
  frac('500', p.error500);
  frac('reset', p.reset);
  frac('malformed', p.malformed);
  if ((p.error500 ?? 0) + (p.reset ?? 0) + (p.malformed ?? 0) > 1) throw new Error('fault fractions add up to more than 1');
  const nonNeg = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new Error(`${name} must be a number >= 0 (got ${v})`);
  };
  nonNeg('latency-ms', p.latencyMs);
  nonNeg('jitter-ms', p.jitterMs);
  nonNeg('restart-down-ms', p.restartDownMs);
  if (p.restartEvery !== undefined && !(Number.isInteger(p.restartEvery) && p.restartEvery > 0)) {
    throw new Error(`restart-every must be a positive integer (got ${p.restartEvery})`);
  }
  for (const k of p.pattern ?? []) if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new Error(`unknown fault '${k}' in pattern (one of ${FAULT_KINDS.join(', ')})`);
}

/** Parses the CLI's `--fault` value: comma-separated `name=value` items, e.g.
 * `500=0.1,reset=0.05,malformed=0.02,restart-every=100,restart-down-ms=500,seed=7,unhealthy`
 * or `pattern=ok/500/reset`. */
export function parseFaultSpec(spec: string): FaultPlan {
  const plan: FaultPlan = {};
  for (const item of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? '' : item.slice(eq + 1);
    const num = () => {
      const v = Number(value);
      if (value === '' || !Number.isFinite(v)) throw new Error(`--fault ${name}: '${value}' is not a number`);
      return v;
    };
    switch (name) {
      case '500':
        plan.error500 = num();
        break;
      case 'reset':
        plan.reset = num();
        break;
      case 'malformed':
        plan.malformed = num();
        break;
      case 'restart-every':
        plan.restartEvery = num();
        break;
      case 'restart-down-ms':
        plan.restartDownMs = num();
        break;
      case 'latency-ms':
        plan.latencyMs = num();
        break;
      case 'jitter-ms':
        plan.jitterMs = num();
        break;
      case 'seed':
        plan.seed = num();
        break;
      case 'unhealthy':
        plan.unhealthy = true;
        break;
      case 'pattern':
        plan.pattern = value.split('/').filter(Boolean) as FaultKind[];
        break;
      default:
        throw new Error(`--fault: unknown fault '${name}' (500, reset, malformed, restart-every, restart-down-ms, latency-ms, jitter-ms, seed, unhealthy, pattern)`);
    }
  }
  validatePlan(plan);
  return plan;
}

/** The `--fault` spec of a plan (latency and jitter have their own options and are left out). */
export function faultSpec(p: FaultPlan): string {
  const items: string[] = [];
  if (p.error500 !== undefined) items.push(`500=${p.error500}`);
  if (p.reset !== undefined) items.push(`reset=${p.reset}`);
  if (p.malformed !== undefined) items.push(`malformed=${p.malformed}`);
  if (p.restartEvery !== undefined) items.push(`restart-every=${p.restartEvery}`);
  if (p.restartDownMs !== undefined) items.push(`restart-down-ms=${p.restartDownMs}`);
  if (p.seed !== undefined) items.push(`seed=${p.seed}`);
  if (p.unhealthy) items.push('unhealthy');
  if (p.pattern && p.pattern.length > 0) items.push(`pattern=${p.pattern.join('/')}`);
  return items.join(',');
}
