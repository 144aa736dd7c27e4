"""heldout_tokens.jsonl: per-token log-probs of the trained policy and the reference on the
held-out pairs, in the scoring stage's terms (docs/scoring.md "Runs and storage"; docs/training.md
"heldout_tokens.jsonl"), so the engine can import them as a scoring run. Pure.

Line 1 describes the run (`"type": "run"`), then one line per pair and side (`"type": "side"`),
then a summary (`"type": "summary"`).
"""

from __future__ import annotations

import hashlib
from typing import Any, Dict, List, Sequence

from . import RUN_FORMAT
from .tokens import PairTokens


def text_sha256(prompt: str, response: str) -> str:
    """sha256(prompt || NUL || response) in UTF-8: what a scored side was computed on."""
    h = hashlib.sha256()
    h.update(prompt.encode('utf-8'))
    h.update(b'\0')
    h.update(response.encode('utf-8'))
    return h.hexdigest()


def heldout_rows(pairs: Sequence[PairTokens], logps: Sequence[Dict[str, Dict[str, List[float]]]], run: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The file's lines. `run` holds beta, the models, the family, special-token handling and
    the step (written on the first line as given)."""
    beta = float(run['beta'])
    rows: List[Dict[str, Any]] = [{'type': 'run', 'format': RUN_FORMAT, **run}]
    margins: List[float] = []
    for p, values in zip(pairs, logps):
        r = p.record
        sums = {}
        for side in ('chosen', 'rejected'):
            t = p.side(side)
            lp, lr = values[side]['policy'], values[side]['ref']
            if len(lp) != len(t.ids) or len(lr) != len(t.ids):
                raise ValueError(f'pair {r.pair_id} {side}: {len(t.ids)} tokens but {len(lp)} policy and {len(lr)} reference log-probs')
            masked_lp = sum(v for v, m in zip(lp, t.mask) if m)
            masked_lr = sum(v for v, m in zip(lr, t.mask) if m)
            sums[side] = masked_lp - masked_lr
            rows.append({
                'type': 'side',
                'pair_id': r.pair_id,
                'pair_key': r.pair_key,
                'line': r.line,
                'side': side,
                'format': r.format,
                'text_sha256': text_sha256(r.prompt, r.response(side)),
                'prompt_tokens': len(p.prompt_ids),
                'token_ids': t.ids,
                'char_ranges': [[s, e] for s, e in t.ranges],
                'in_loss': t.mask,
                'logp_policy': lp,
                'logp_ref': lr,
                'reward_sum': beta * (sum(lp) - sum(lr)),
                'masked_reward_sum': beta * (masked_lp - masked_lr),
            })
        margins.append(beta * (sums['chosen'] - sums['rejected']))
    rows.append({
        'type': 'summary',
        'pairs': len(margins),
        'sides': 2 * len(margins),
        'prefers_chosen': sum(1 for m in margins if m > 0),
        'mean_margin': (sum(margins) / len(margins)) if margins else None,
    })
    return rows
