// DPO's implicit reward, token by token, and what counts in the loss. Pure.
//
// The implicit reward of a response is beta * (log pi(y|x) - log pi_ref(y|x)), a sum over its
// tokens, so token t carries r_t = beta * (logp_policy(t) - logp_ref(t)). Only the tokens in the
// loss enter the DPO objective, so a side's reward is summed over them (the "masked" sum), and a
// pair's margin is
//
//   margin = beta * ((sum lp_c - sum lr_c) - (sum lp_r - sum lr_r))   over masked tokens,
//
// positive when the policy, relative to the reference, already prefers the chosen side.
//
// The mask rule (docs/scoring.md, "Which tokens count"): a token is in the loss when its
// character range [s, e) overlaps a loss span [a, b), i.e. s < b and a < e; a token with an empty
// range [p, p) (it holds no character of the text) is in the loss when a <= p < b. So a token
// that a span ends inside of counts, as does a token that holds part of a character a span
// covers; an empty span list puts nothing in the loss.
import type { Span } from '../protocol';


/** Whether a token with character range [start, end) is in the loss. */
export function inLoss(start: number, end: number, spans: readonly Span[]): boolean {
  for (const [a, b] of spans) {
    if (a >= b) continue;
    if (start === end ? a <= start && start < b : start < b && a < end) return true;
  }
  return false;
}

/** The loss mask of tokens whose ranges are [ranges[2i], ranges[2i+1]). */
export function lossMask(ranges: Int32Array, spans: readonly Span[]): Uint8Array {
  const n = ranges.length / 2;
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = inLoss(ranges[2 * i], ranges[2 * i + 1], spans) ? 1 : 0;
  return mask;
}

export function tokenReward(beta: number, logpPolicy: number, logpRef: number): number {
  return beta * (logpPolicy - logpRef);
}

export interface SideSums {
  tokens: number;
  maskedTokens: number;
  /** sum of logp_policy over the tokens in the loss (TRL's logps/chosen, logps/rejected). */
  maskedLogpPolicy: number;
  /** sum of logp_ref over the tokens in the loss. */
  maskedLogpRef: number;
  /** beta * sum of (logp_policy - logp_ref) over every response token. */
  rewardSum: number;
  /** beta * (maskedLogpPolicy - maskedLogpRef): the side's implicit reward as the loss sees it. */
  maskedRewardSum: number;
}

/** A side's sums from its per-token values as stored (float32), summed in double precision, so
 * they equal a recomputation from the store. */
export function sideSums(logpPolicy: ArrayLike<number>, logpRef: ArrayLike<number>, mask: ArrayLike<number>, beta: number): SideSums {
  if (logpPolicy.length !== logpRef.length || logpPolicy.length !== mask.length) {
    throw new Error(`sideSums: ${logpPolicy.length} policy, ${logpRef.length} reference log-probs and ${mask.length} mask entries`);
  }
  let lp = 0;
  let lr = 0;
  let maskedLp = 0;
  let maskedLr = 0;
  let maskedTokens = 0;
  for (let i = 0; i < logpPolicy.length; i++) {
    lp += logpPolicy[i];
    lr += logpRef[i];
    if (mask[i]) {
      maskedLp += logpPolicy[i];
      maskedLr += logpRef[i];
      maskedTokens++;
    }
  }
  return {
    tokens: logpPolicy.length,
    maskedTokens,
    maskedLogpPolicy: maskedLp,
    maskedLogpRef: maskedLr,
    rewardSum: beta * (lp - lr),
    maskedRewardSum: beta * (maskedLp - maskedLr),
  };
}

type Masked = Pick<SideSums, 'maskedLogpPolicy' | 'maskedLogpRef'>;

/** beta * ((sum lp_c - sum lr_c) - (sum lp_r - sum lr_r)) over the masked tokens of each side. */
export function pairMargin(beta: number, chosen: Masked, rejected: Masked): number {
  return beta * (chosen.maskedLogpPolicy - chosen.maskedLogpRef - (rejected.maskedLogpPolicy - rejected.maskedLogpRef));
}
