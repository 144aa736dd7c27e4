// "Sample xN" / "Sample all blocks" on the server: checks what the editor asked for, runs the
// sampling stage's job over the chosen targets of the document, then (trusted workspaces only)
// the tests of the new samples through the execution stage's runner, and sums it up. The job
// itself (prompts, endpoints, retries, storage) is the sampling stage's; this module only wires it.
import type { RunSummary } from '../exec/runPending';
import type { EndpointConfig, SampleSummary, SamplingParams, Verdict } from '../protocol';
import { SAMPLING_FAMILIES } from '../protocol';
import { VERDICTS } from '../exec/types';
import type { DocTarget } from './documentTargets';

/** The targets to sample: all of the document's, or the requested ones, which must be among them
 * (a stale lens after the document changed names a target that is no longer there). Pure. */
export function chooseTargets(docTargets: readonly DocTarget[], targetIds: readonly number[] | undefined): DocTarget[] {
  if (targetIds === undefined) return [...docTargets];
  if (!Array.isArray(targetIds) || targetIds.length === 0 || !targetIds.every((t) => Number.isInteger(t))) {
    throw new Error('`targetIds` must be a non-empty array of target ids (or absent for every target)');
  }
  const byId = new Map(docTargets.map((t) => [t.targetId, t]));
  const missing = targetIds.filter((id) => !byId.has(id));
  if (missing.length) throw new Error(`target ${missing.join(', ')} is not a block of this document under the current preset (refresh the code lenses)`);
  return targetIds.map((id) => byId.get(id)!);
}

/** Checks endpoints and sampling values from the client; the message names the field. Pure. */
export function checkSampling(endpoints: unknown, params: unknown): { endpoints: EndpointConfig[]; params: SamplingParams } {
  if (!Array.isArray(endpoints) || endpoints.length === 0) throw new Error('no sampling endpoints: set pairforge.sampling.endpoints');
  endpoints.forEach((e: unknown, i) => {
    const o = e as Partial<EndpointConfig> | null;
    if (!o || typeof o.url !== 'string' || !/^https?:\/\//i.test(o.url)) throw new Error(`endpoints[${i}].url: not an http(s) URL`);
    if (typeof o.model !== 'string' || o.model === '') throw new Error(`endpoints[${i}].model: missing`);
    if (o.apiKey !== undefined && typeof o.apiKey !== 'string') throw new Error(`endpoints[${i}].apiKey: not a string`);
  });
  const p = params as Partial<SamplingParams> | null;
  if (!p || typeof p !== 'object') throw new Error('`params` missing');
  if (!SAMPLING_FAMILIES.includes(p.family as SamplingParams['family'])) throw new Error(`params.family: one of ${SAMPLING_FAMILIES.join(', ')}`);
  const num = (k: keyof SamplingParams, lo: number, hi: number, int: boolean) => {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (int && !Number.isInteger(v))) throw new Error(`params.${k}: ${int ? 'an integer' : 'a number'} from ${lo} to ${hi}`);
  };
  num('n', 1, 1024, true);
  num('temperature', 0, 2, false);
  num('topP', 0, 1, false);
  num('maxTokens', 1, 131_072, true);
  num('concurrency', 1, 4096, true);
  return { endpoints: endpoints as EndpointConfig[], params: p as SamplingParams };
}

/** The verdict counts of a test run over a job's samples (zeros left out). Pure. */
export function verdictCounts(s: Pick<RunSummary, Verdict>): Partial<Record<Verdict, number>> {
  const out: Partial<Record<Verdict, number>> = {};
  for (const v of VERDICTS) if (s[v] > 0) out[v] = s[v];
  return out;
}

export function emptySummary(targets: number): SampleSummary {
  return { jobId: null, targets, samples: 0, skipped: 0, verdicts: {}, cancelled: false };
}
