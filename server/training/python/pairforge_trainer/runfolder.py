"""The run folder's files (docs/training.md "The run folder"). Standard library only.

Only the main process (rank 0) writes. status.json is replaced atomically (written beside and
renamed), so a reader never sees half of it; the JSON-lines files are appended one flushed line
at a time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
from typing import Any, Dict, List, Optional

from . import RUN_FORMAT

EXPORT_DIR = 'export'
STATUS_FILE = 'status.json'
RUN_FILE = 'run.json'
METRICS_FILE = 'metrics.jsonl'
BATCHES_FILE = 'batches.jsonl'
HELDOUT_FILE = 'heldout_tokens.jsonl'
MODEL_DIR = 'model'
CHECKPOINTS_DIR = 'checkpoints'
TINY_MODEL_DIR = 'tiny-model'


def now_iso() -> str:
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())


def write_json_atomic(path: str, value: Any) -> None:
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(value, f, indent=2)
        f.write('\n')
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: str) -> Optional[Any]:
    try:
        with open(path, 'r', encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def is_main_process() -> bool:
    """Rank 0 of a torchrun / accelerate launch job, or a plain process."""
    return int(os.environ.get('RANK', '0')) == 0


class Status:
    """status.json: where the run is (state, step), updated as it goes."""

    def __init__(self, run_dir: str, enabled: bool):
        self.path = os.path.join(run_dir, STATUS_FILE)
        self.enabled = enabled
        self.value: Dict[str, Any] = {
            'format': RUN_FORMAT,
            'state': 'starting',
            'message': '',
            'step': 0,
            'max_steps': None,
            'epoch': None,
            'pid': os.getpid(),
            'host': socket.gethostname(),
            'world_size': int(os.environ.get('WORLD_SIZE', '1')),
            'started_at': now_iso(),
            'updated_at': now_iso(),
            'ended_at': None,
            'exit_code': None,
        }

    def update(self, **fields: Any) -> None:
        self.value.update(fields)
        self.value['updated_at'] = now_iso()
        if self.enabled:
            write_json_atomic(self.path, self.value)

    def end(self, state: str, message: str, exit_code: int) -> None:
        self.update(state=state, message=message, exit_code=exit_code, ended_at=now_iso())


def last_complete_checkpoint(directory: str, remove_partial: bool) -> Optional[str]:
    """The newest checkpoint-N folder holding trainer_state.json (written last, so a checkpoint a
    kill cut short has none), or None. With `remove_partial`, newer incomplete ones are deleted."""
    if not os.path.isdir(directory):
        return None
    found = []
    for name in os.listdir(directory):
        m = re.fullmatch(r'checkpoint-(\d+)', name)
        if m and os.path.isdir(os.path.join(directory, name)):
            found.append((int(m.group(1)), os.path.join(directory, name)))
    for _step, path in sorted(found, reverse=True):
        if os.path.isfile(os.path.join(path, 'trainer_state.json')):
            return path
        if remove_partial:
            shutil.rmtree(path, ignore_errors=True)
    return None


def keep_lines_through_step(path: str, step: int) -> int:
    """Keeps the JSON lines of `path` whose "step" is at most `step` (a resumed run logs the later
    steps again), leaving out the end-of-training line of the attempt that stopped (it has
    "train_runtime"); returns how many were dropped. A missing file is left missing."""
    if not os.path.exists(path):
        return 0
    kept: List[str] = []
    dropped = 0
    with open(path, 'r', encoding='utf-8') as f:
        for line in f:
            try:
                row = json.loads(line)
            except ValueError:
                dropped += 1  # a line cut by a kill
                continue
            if isinstance(row, dict) and isinstance(row.get('step'), int) and row['step'] <= step and 'train_runtime' not in row:
                kept.append(line if line.endswith('\n') else line + '\n')
            else:
                dropped += 1
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.writelines(kept)
    os.replace(tmp, path)
    return dropped


class JsonLines:
    """Appends one JSON object per line, flushed at once."""

    def __init__(self, path: str, enabled: bool):
        self.path = path
        self.enabled = enabled

    def write(self, row: Dict[str, Any]) -> None:
        if not self.enabled:
            return
        with open(self.path, 'a', encoding='utf-8') as f:
            f.write(json.dumps(row, ensure_ascii=False) + '\n')
            f.flush()
