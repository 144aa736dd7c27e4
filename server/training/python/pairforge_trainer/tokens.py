"""Records to token ids and loss masks (docs/training.md "Tokens and the mask rule").

The prompt and each response are tokenized separately and the ids concatenated, as the scoring
stage does (docs/scoring.md "What is scored"), so a response's tokens never merge with the
prompt's: the prompt with add_special_tokens (a BOS where the model's tokenizer adds one; the
`add_special_tokens` option turns it off), each response without. Nothing is appended: a FIM
response already ends with the family's end token (in its span), a chat response is the code.

A response token's character range is the tokenizer's offset mapping of the response alone, in
code points (Python string indices), taken without the post-processor so that no offset is
trimmed (byte-level tokenizers would otherwise drop a token's leading space from its range).
Tokens that split one character (byte-level pieces of an emoji) all get that character's range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .export import Record
from .spans import loss_mask


class TokenizeError(Exception):
    """The tokenizer cannot give what the mask needs; the message says what and where."""


@dataclass(frozen=True)
class SideTokens:
    ids: List[int]
    ranges: List[Tuple[int, int]]
    mask: List[int]


@dataclass(frozen=True)
class PairTokens:
    record: Record
    prompt_ids: List[int]
    chosen: SideTokens
    rejected: SideTokens

    def side(self, name: str) -> SideTokens:
        return self.chosen if name == 'chosen' else self.rejected

    def longest(self) -> int:
        return len(self.prompt_ids) + max(len(self.chosen.ids), len(self.rejected.ids))


class ResponseEncoder:
    """Token ids and untrimmed code-point ranges of a response, checked against the tokenizer's
    own ids for the same text."""

    def __init__(self, tokenizer: Any):
        backend = getattr(tokenizer, 'backend_tokenizer', None)
        if backend is None:
            raise TokenizeError(
                f'{type(tokenizer).__name__} is not a fast (Rust) tokenizer: the loss mask needs its offset mapping'
            )
        from tokenizers import Tokenizer

        self._tokenizer = tokenizer
        self._plain = Tokenizer.from_str(backend.to_str())
        self._plain.post_processor = None

    def encode(self, text: str, where: str) -> Tuple[List[int], List[Tuple[int, int]]]:
        enc = self._plain.encode(text, add_special_tokens=False)
        ids = list(enc.ids)
        expected = self._tokenizer(text, add_special_tokens=False)['input_ids']
        if ids != list(expected):
            raise TokenizeError(f'{where}: the tokenizer\'s offsets encoding differs from its ids ({ids[:8]}... vs {list(expected)[:8]}...)')
        ranges = [(int(s), int(e)) for s, e in enc.offsets]
        for i, (s, e) in enumerate(ranges):
            if not 0 <= s <= e <= len(text):
                raise TokenizeError(f'{where}: token {i} has the offsets [{s}, {e}), outside the text ({len(text)} code points)')
        return ids, ranges


def tokenize_record(tokenizer: Any, encoder: ResponseEncoder, record: Record, add_special_tokens: bool, where: str) -> PairTokens:
    prompt_ids = list(tokenizer(record.prompt, add_special_tokens=add_special_tokens)['input_ids'])
    if not prompt_ids:
        raise TokenizeError(f'{where}: the prompt has no tokens, so nothing conditions the first response token')
    sides = {}
    for side in ('chosen', 'rejected'):
        ids, ranges = encoder.encode(record.response(side), f'{where}: {side}')
        sides[side] = SideTokens(ids=ids, ranges=ranges, mask=loss_mask(ranges, record.spans(side)))
    return PairTokens(record=record, prompt_ids=prompt_ids, chosen=sides['chosen'], rejected=sides['rejected'])


@dataclass(frozen=True)
class Tokenized:
    pairs: List[PairTokens]
    #: Records left out because prompt + a response is longer than max_length: (line, pair id, tokens).
    too_long: List[Tuple[int, int, int]]


def tokenize_records(tokenizer: Any, records: Sequence[Record], *, add_special_tokens: bool, max_length: Optional[int], data_path: str) -> Tokenized:
    encoder = ResponseEncoder(tokenizer)
    pairs: List[PairTokens] = []
    too_long: List[Tuple[int, int, int]] = []
    for r in records:
        p = tokenize_record(tokenizer, encoder, r, add_special_tokens, f'{data_path} line {r.line}')
        if max_length is not None and p.longest() > max_length:
            too_long.append((r.line, r.pair_id, p.longest()))
            continue
        pairs.append(p)
    return Tokenized(pairs=pairs, too_long=too_long)


def dataset_rows(pairs: Sequence[PairTokens], *, full_mask: bool = False) -> Dict[str, list]:
    """Columns for a datasets.Dataset: ids, span masks (or all ones for `full_mask`, to read every
    response token's log-prob) and the record index, in the given order."""
    cols: Dict[str, list] = {k: [] for k in ('prompt_ids', 'chosen_ids', 'rejected_ids', 'chosen_mask', 'rejected_mask', 'record_index')}
    for p in pairs:
        cols['prompt_ids'].append(p.prompt_ids)
        cols['chosen_ids'].append(p.chosen.ids)
        cols['rejected_ids'].append(p.rejected.ids)
        cols['chosen_mask'].append([1] * len(p.chosen.ids) if full_mask else p.chosen.mask)
        cols['rejected_mask'].append([1] * len(p.rejected.ids) if full_mask else p.rejected.mask)
        cols['record_index'].append(p.record.index)
    return cols
