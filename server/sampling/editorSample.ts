// What "Sample xN" / "Sample all blocks" need besides the sampling job: which of the document's
// targets to sample, the request's endpoints and values checked against the settings' bounds, and
// the verdict counts of the tests that ran after it. Pure.
import { checkSamplingValues, checkSetting, SAMPLING_FAMILIES, VERDICTS, type EndpointConfig, type SamplingParams, type Verdict } from '../protocol';
import type { DocTarget } from '../targets/documentTargets';

/** The targets to sample: all of the document's, or the requested ones, which must be among them
 * (a stale lens after the document changed names a target that is no longer there). */
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

/** Checks endpoints and sampling values from the client; the message names the field. The bounds
 * are the settings' (server/protocol/settings.ts), the same the job and the CLI check. */
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
  for (const k of ['n', 'temperature', 'topP', 'maxTokens'] as const) if (p[k] === undefined) throw new Error(`params.${k}: missing`);
  const values = checkSamplingValues(p, 'params.');
  const concurrency = checkSetting('sampling.concurrency', p.concurrency, 'params.concurrency');
  return {
    endpoints: endpoints as EndpointConfig[],
    params: { ...values, family: p.family as SamplingParams['family'], concurrency, ...(p.customTokens ? { customTokens: p.customTokens } : {}) },
  };
}

/** The verdict counts of a test run over a job's samples (zeros left out). */
export function verdictCounts(s: Readonly<Record<Verdict, number>>): Partial<Record<Verdict, number>> {
  const out: Partial<Record<Verdict, number>> = {};
  for (const v of VERDICTS) if (s[v] > 0) out[v] = s[v];
  return out;
}
