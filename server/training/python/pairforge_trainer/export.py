"""Reading a PairForge TRL export and its manifest (docs/pairs.md "pairforge export";
docs/training.md "Input"). Standard library only, so `train.py check` runs without torch.

Every problem is an ExportError whose message names the file, the line and the field.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

DATA_FILE = 'pairs.trl.jsonl'
MANIFEST_FILE = 'manifest.json'
MODES = ('structurecoder', 'iterpref')
FORMATS = ('fim', 'chat')
SIDES = ('chosen', 'rejected')


class ExportError(Exception):
    """Bad input: the message names the file, line and field."""


@dataclass(frozen=True)
class Record:
    """One line of pairs.trl.jsonl (`line` is 1-based)."""

    index: int
    line: int
    prompt: str
    chosen: str
    rejected: str
    chosen_spans: Tuple[Tuple[int, int], ...]
    rejected_spans: Tuple[Tuple[int, int], ...]
    pair_id: int
    pair_key: Optional[str]
    mode: str
    format: str

    def response(self, side: str) -> str:
        return self.chosen if side == 'chosen' else self.rejected

    def spans(self, side: str) -> Tuple[Tuple[int, int], ...]:
        return self.chosen_spans if side == 'chosen' else self.rejected_spans


@dataclass(frozen=True)
class Export:
    dir: str
    manifest: dict
    records: List[Record]
    #: The FIM family the prompts were rendered for (manifest options.family).
    family: str
    training_sentence: bool
    #: The PairForge version that wrote the export.
    version: str

    @property
    def data_path(self) -> str:
        return os.path.join(self.dir, DATA_FILE)


def _field(obj: dict, name: str, kind, where: str):
    if name not in obj:
        raise ExportError(f'{where}: missing field {name!r}')
    value = obj[name]
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ExportError(f'{where}: field {name!r} should be {_kind_name(kind)}, not {_json_type(value)}')
    return value


def _kind_name(kind) -> str:
    return {str: 'a string', int: 'an integer', bool: 'true or false', dict: 'an object', list: 'a list'}.get(kind, str(kind))


def _json_type(value) -> str:
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, (int, float)):
        return f'the number {value!r}'
    if isinstance(value, str):
        return 'a string'
    if isinstance(value, list):
        return 'a list'
    return 'an object'


def read_manifest(directory: str) -> dict:
    path = os.path.join(directory, MANIFEST_FILE)
    if not os.path.isfile(path):
        raise ExportError(f'{path}: not found (the export folder holds {DATA_FILE} and {MANIFEST_FILE}: pairforge export --format trl --out DIR)')
    try:
        with open(path, 'r', encoding='utf-8') as f:
            manifest = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise ExportError(f'{path}: not valid JSON ({e})') from None
    if not isinstance(manifest, dict):
        raise ExportError(f'{path}: should hold a JSON object, not {_json_type(manifest)}')
    pf = _field(manifest, 'pairforge', dict, path)
    _field(pf, 'version', str, f'{path}: pairforge')
    options = _field(manifest, 'options', dict, path)
    fmt = _field(options, 'format', str, f'{path}: options')
    if fmt != 'trl':
        raise ExportError(f"{path}: options.format is {fmt!r}; the trainer reads the TRL export (pairforge export --format trl)")
    _field(options, 'family', str, f'{path}: options')
    _field(options, 'trainingSentence', bool, f'{path}: options')
    files = _field(manifest, 'files', list, path)
    entry = next((f for f in files if isinstance(f, dict) and f.get('name') == DATA_FILE), None)
    if entry is None:
        raise ExportError(f'{path}: files lists no {DATA_FILE!r}')
    where = f'{path}: files[{files.index(entry)}]'
    _field(entry, 'records', int, where)
    _field(entry, 'bytes', int, where)
    _field(entry, 'sha256', str, where)
    return manifest


def _spans(value, where: str, name: str, length: int) -> Tuple[Tuple[int, int], ...]:
    if not isinstance(value, list):
        raise ExportError(f'{where}: field {name!r} should be a list of [start, end] pairs, not {_json_type(value)}')
    out = []
    for i, span in enumerate(value):
        if (
            not isinstance(span, list)
            or len(span) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in span)
        ):
            raise ExportError(f'{where}: {name}[{i}] should be [start, end] (two integers), not {json.dumps(span)}')
        a, b = span
        if a < 0 or b < a:
            raise ExportError(f'{where}: {name}[{i}] = [{a}, {b}] is not a range (0 <= start <= end)')
        if b > length:
            raise ExportError(
                f'{where}: {name}[{i}] = [{a}, {b}] ends past the {name.split("_")[0]} response ({length} characters)'
            )
        out.append((a, b))
    return tuple(out)


def parse_record(obj, index: int, line: int, where: str) -> Record:
    if not isinstance(obj, dict):
        raise ExportError(f'{where}: should be a JSON object, not {_json_type(obj)}')
    prompt = _field(obj, 'prompt', str, where)
    chosen = _field(obj, 'chosen', str, where)
    rejected = _field(obj, 'rejected', str, where)
    for name in ('chosen_loss_spans', 'rejected_loss_spans'):
        if name not in obj:
            raise ExportError(f'{where}: missing field {name!r} (a PairForge TRL export carries the loss spans)')
    chosen_spans = _spans(obj['chosen_loss_spans'], where, 'chosen_loss_spans', len(chosen))
    rejected_spans = _spans(obj['rejected_loss_spans'], where, 'rejected_loss_spans', len(rejected))
    if chosen == '' or rejected == '':
        raise ExportError(f"{where}: field {'chosen' if chosen == '' else 'rejected'!r} is empty")
    meta = _field(obj, 'metadata', dict, where)
    mw = f'{where}: metadata'
    pair_id = _field(meta, 'pair_id', int, mw)
    mode = _field(meta, 'mode', str, mw)
    if mode not in MODES:
        raise ExportError(f'{mw}: field \'mode\' is {mode!r}, not one of {", ".join(MODES)}')
    fmt = _field(meta, 'format', str, mw)
    if fmt not in FORMATS:
        raise ExportError(f'{mw}: field \'format\' is {fmt!r}, not one of {", ".join(FORMATS)}')
    key = meta.get('pair_key')
    return Record(
        index=index,
        line=line,
        prompt=prompt,
        chosen=chosen,
        rejected=rejected,
        chosen_spans=chosen_spans,
        rejected_spans=rejected_spans,
        pair_id=pair_id,
        pair_key=key if isinstance(key, str) else None,
        mode=mode,
        format=fmt,
    )


def read_export(directory: str) -> Export:
    """The export in `directory`, checked against its manifest (record count, bytes, sha256)."""
    manifest = read_manifest(directory)
    entry = next(f for f in manifest['files'] if f.get('name') == DATA_FILE)
    path = os.path.join(directory, DATA_FILE)
    if not os.path.isfile(path):
        raise ExportError(f'{path}: not found (listed in {MANIFEST_FILE})')
    digest = hashlib.sha256()
    size = 0
    records: List[Record] = []
    with open(path, 'rb') as f:
        for line_no, raw in enumerate(f, start=1):
            digest.update(raw)
            size += len(raw)
            where = f'{path} line {line_no}'
            text = raw.rstrip(b'\n')
            if text.strip() == b'':
                raise ExportError(f'{where}: empty line')
            try:
                obj = json.loads(text.decode('utf-8'))
            except UnicodeDecodeError as e:
                raise ExportError(f'{where}: not UTF-8 ({e})') from None
            except ValueError as e:
                raise ExportError(f'{where}: not valid JSON ({e})') from None
            records.append(parse_record(obj, len(records), line_no, where))
    manifest_path = os.path.join(directory, MANIFEST_FILE)
    if len(records) != entry['records']:
        raise ExportError(f'{path}: holds {len(records)} records but {manifest_path} says {entry["records"]} (files: {DATA_FILE} records)')
    if size != entry['bytes'] or digest.hexdigest() != entry['sha256']:
        raise ExportError(
            f'{path}: differs from what {manifest_path} records (files: {DATA_FILE} sha256 {entry["sha256"][:12]}..., '
            f'{entry["bytes"]} bytes; the file has {digest.hexdigest()[:12]}..., {size} bytes): it was changed after the export'
        )
    if not records:
        raise ExportError(f'{path}: no records (export accepted pairs, or use --include-pending)')
    options = manifest['options']
    return Export(
        dir=directory,
        manifest=manifest,
        records=records,
        family=options['family'],
        training_sentence=options['trainingSentence'],
        version=manifest['pairforge']['version'],
    )


def pair_order(records: Sequence[Record]) -> List[int]:
    """The distinct pair ids in order of first appearance."""
    seen: Dict[int, None] = {}
    for r in records:
        seen.setdefault(r.pair_id, None)
    return list(seen)


def split_heldout(records: Sequence[Record], wanted: int) -> Tuple[List[Record], List[Record]]:
    """(training records, held-out records). Held out: every k-th distinct pair in order of first
    appearance (k = distinct pairs // n, starting with the k-th), so the subset spreads over the
    curriculum; n = min(wanted, half the distinct pairs). Every record of a held-out pair leaves
    training (an export repeated over epochs holds a pair several times); the held-out list keeps
    each held-out pair's first record. Deterministic: the same export gives the same split."""
    order = pair_order(records)
    n = min(max(wanted, 0), len(order) // 2)
    if n == 0:
        return list(records), []
    k = len(order) // n
    held = {order[i * k + k - 1] for i in range(n)}
    train = [r for r in records if r.pair_id not in held]
    first: Dict[int, Record] = {}
    for r in records:
        if r.pair_id in held:
            first.setdefault(r.pair_id, r)
    return train, [first[p] for p in order if p in held]


def mode_counts(records: Sequence[Record]) -> Dict[str, int]:
    out = {m: 0 for m in MODES}
    for r in records:
        out[r.mode] += 1
    return out
