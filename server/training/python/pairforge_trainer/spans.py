"""Which response tokens count in the loss (docs/training.md "Tokens and the mask rule"). Pure.

A token is in the loss when its character range [s, e) in the response (Unicode code points, the
way Python indexes a string) overlaps a loss span [a, b): s < b and a < e. A token with an empty
range [p, p) (it holds no character of the text) is in the loss when a <= p < b. Empty spans
(a >= b) mark nothing. This is the scoring stage's rule (docs/scoring.md "Which tokens count"), so
what training optimises is what the review room paints.
"""

from __future__ import annotations

from typing import Iterable, List, Sequence, Tuple

Span = Tuple[int, int]


def in_loss(start: int, end: int, spans: Iterable[Sequence[int]]) -> bool:
    for a, b in spans:
        if a >= b:
            continue
        if start == end:
            if a <= start < b:
                return True
        elif start < b and a < end:
            return True
    return False


def loss_mask(ranges: Sequence[Sequence[int]], spans: Sequence[Sequence[int]]) -> List[int]:
    """1 for each token range in the loss, 0 otherwise."""
    return [1 if in_loss(s, e, spans) else 0 for s, e in ranges]
