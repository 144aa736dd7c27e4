"""The trainer's command line (docs/training.md "Command line").

  train.py train --run-dir RUN [--export DIR] [--tiny]   train; exit 0 done, 1 failed, 2 bad input,
                                                          128+N stopped by signal N
  train.py check --run-dir RUN [--export DIR] [--tiny]   check the export and config.json, print the
                                                          plan as JSON (no torch needed); exit 0 or 2
  train.py env                                           print the environment as JSON; exit 0 when
                                                          every pinned package imports, else 1
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import re
import sys
from typing import Any, Dict, List, Optional

from . import RUN_FORMAT

PACKAGES = ['torch', 'transformers', 'trl', 'accelerate', 'peft', 'tokenizers', 'datasets']
REQUIREMENTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'requirements.txt')


def _pins() -> Dict[str, str]:
    pins: Dict[str, str] = {}
    try:
        with open(REQUIREMENTS, 'r', encoding='utf-8') as f:
            for line in f:
                m = re.match(r'^\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s#;]+)', line)
                if m:
                    pins[m.group(1).lower()] = m.group(2)
    except OSError:
        pass
    return pins


def environment() -> Dict[str, Any]:
    """What a host offers: Python, packages against requirements.txt, CUDA and its GPUs."""
    out: Dict[str, Any] = {
        'trainer_format': RUN_FORMAT,
        'python': platform.python_version(),
        'executable': sys.executable,
        'platform': platform.platform(),
        'packages': {},
        'mismatches': [],
        'missing': [],
        'cuda_available': False,
        'cuda_version': None,
        'gpu_count': 0,
        'gpus': [],
    }
    pins = _pins()
    for name in PACKAGES:
        try:
            mod = importlib.import_module(name)
            version = str(getattr(mod, '__version__', 'unknown'))
            out['packages'][name] = version
            pin = pins.get(name)
            if pin and version.split('+')[0] != pin:
                out['mismatches'].append({'package': name, 'installed': version, 'pinned': pin})
        except Exception as e:  # a broken install is reported, not raised
            out['packages'][name] = None
            out['missing'].append({'package': name, 'error': f'{type(e).__name__}: {e}'})
    if out['packages'].get('torch'):
        import torch

        out['cuda_available'] = bool(torch.cuda.is_available())
        out['cuda_version'] = torch.version.cuda
        if out['cuda_available']:
            out['gpu_count'] = torch.cuda.device_count()
            for i in range(out['gpu_count']):
                p = torch.cuda.get_device_properties(i)
                out['gpus'].append({'index': i, 'name': p.name, 'memory_mb': p.total_memory // (1024 * 1024)})
        out['bf16_supported'] = bool(out['cuda_available'] and torch.cuda.is_bf16_supported())
    return out


def check(run_dir: str, export_dir: Optional[str], tiny: bool) -> Dict[str, Any]:
    from .config import CONFIG_FILE, read_config, resolve
    from .export import mode_counts, pair_order, read_export, split_heldout
    from .runfolder import EXPORT_DIR

    export = read_export(os.path.abspath(export_dir or os.path.join(run_dir, EXPORT_DIR)))
    opts, notes = resolve(read_config(run_dir), os.path.join(run_dir, CONFIG_FILE), tiny=tiny, mode_counts=mode_counts(export.records))
    train_records, held = split_heldout(export.records, opts['heldout_pairs'])
    return {
        'records': len(export.records),
        'pairs': len(pair_order(export.records)),
        'modes': mode_counts(export.records),
        'family': export.family,
        'train_records': len(train_records),
        'heldout_pairs': [r.pair_id for r in held],
        'options': opts,
        'notes': notes,
    }


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog='train.py', description='PairForge masked-DPO trainer (docs/training.md)')
    sub = parser.add_subparsers(dest='command', required=True)
    for name, text in (('train', 'train in a run folder'), ('check', 'check the export and config.json without training')):
        p = sub.add_parser(name, help=text)
        p.add_argument('--run-dir', required=True, help='the run folder (holds config.json, export/, and the outputs)')
        p.add_argument('--export', default=None, help='the export folder (default RUN/export)')
        p.add_argument('--tiny', action='store_true', help='a tiny random model built locally: a few steps on CPU')
    sub.add_parser('env', help='print the environment as JSON')
    args = parser.parse_args(argv)

    os.environ.setdefault('HF_HUB_DISABLE_TELEMETRY', '1')
    os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
    os.environ.setdefault('HF_HUB_DISABLE_PROGRESS_BARS', '1')
    if args.command == 'env':
        env = environment()
        print(json.dumps(env, indent=2))
        return 0 if not env['missing'] else 1
    if args.command == 'check':
        from .config import ConfigError
        from .export import ExportError

        try:
            print(json.dumps(check(os.path.abspath(args.run_dir), args.export, args.tiny), indent=2))
            return 0
        except (ExportError, ConfigError) as e:
            print(f'pairforge-train: error: {e}', file=sys.stderr)
            return 2
    from .run import train

    return train(args.run_dir, args.export, args.tiny)
