"""The run's options: config.json in the run folder, over defaults (docs/training.md "config.json").
Standard library only.

Unknown keys and wrong types are refused with the key's name, so a typo never trains silently with
a default. `beta` and `sft_weight` default from the export's pairing mode (docs/published.md):
StructureCoder beta 0.5 without an SFT term, IterPref beta 0.1 with the chosen side's NLL at weight
1.0 (its RPO alpha).
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Tuple

CONFIG_FILE = 'config.json'


class ConfigError(Exception):
    """A bad option: the message names the file and the key."""


# key -> (default, accepted types, description for errors)
_NUM = (int, float)
OPTIONS: Dict[str, Tuple[Any, tuple, str]] = {
    'model': (None, (str, type(None)), 'a model id or a local directory'),
    'tokenizer': (None, (str, type(None)), 'a tokenizer id or directory (default: the model)'),
    'dtype': ('float32', (str,), "'float32', 'bfloat16', 'float16' or 'auto'"),
    'beta': (None, _NUM + (type(None),), 'a positive number'),
    'loss_type': (['sigmoid'], (str, list), "a TRL loss type or a list of them"),
    'sft_weight': (None, _NUM + (type(None),), 'a number >= 0'),
    'learning_rate': (1e-6, _NUM, 'a positive number'),
    'per_device_train_batch_size': (1, (int,), 'a positive integer'),
    'gradient_accumulation_steps': (8, (int,), 'a positive integer'),
    'num_train_epochs': (1, _NUM, 'a positive number'),
    'max_steps': (-1, (int,), 'an integer (-1: as many as the epochs take)'),
    'max_length': (2048, (int, type(None)), 'a positive integer or null'),
    'heldout_pairs': (16, (int,), 'an integer >= 0'),
    'add_special_tokens': (True, (bool,), 'true or false'),
    'lora': (None, (dict, type(None)), 'an object {r, alpha, dropout, target_modules} or null'),
    'gradient_checkpointing': (False, (bool,), 'true or false'),
    'bf16': (False, (bool,), 'true or false'),
    'save_steps': (0, (int,), 'an integer >= 0 (0: no checkpoints)'),
    'save_total_limit': (2, (int, type(None)), 'a positive integer or null'),
    'logging_steps': (1, (int,), 'a positive integer'),
    'seed': (42, (int,), 'an integer'),
    'trl': ({}, (dict,), "an object of further DPOConfig fields"),
}

# What --tiny changes where config.json does not say otherwise (its model is always the tiny one).
TINY_DEFAULTS: Dict[str, Any] = {
    'per_device_train_batch_size': 2,
    'gradient_accumulation_steps': 1,
    'learning_rate': 1e-3,
    'max_steps': 8,
    'heldout_pairs': 4,
}

MODE_DEFAULTS = {
    'structurecoder': {'beta': 0.5, 'sft_weight': 0.0},
    'iterpref': {'beta': 0.1, 'sft_weight': 1.0},
}

# The loss types of the pinned TRL's DPOTrainer._compute_loss ('sft' is the sft_weight term).
LOSS_TYPES = ('sigmoid', 'hinge', 'ipo', 'exo_pair', 'nca_pair', 'robust', 'bco_pair', 'sppo_hard', 'aot',
              'aot_unpaired', 'apo_zero', 'apo_down', 'discopop', 'sigmoid_norm')

LORA_KEYS = {'r': (int,), 'alpha': _NUM, 'dropout': _NUM, 'target_modules': (str, list)}


def read_config(run_dir: str) -> Dict[str, Any]:
    """config.json of the run folder as given (an empty object when there is none)."""
    path = os.path.join(run_dir, CONFIG_FILE)
    if not os.path.exists(path):
        return {}
    try:
        with open(path, 'r', encoding='utf-8') as f:
            raw = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise ConfigError(f'{path}: not valid JSON ({e})') from None
    if not isinstance(raw, dict):
        raise ConfigError(f'{path}: should hold a JSON object')
    return raw


def _type_ok(value: Any, types: tuple) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def resolve(raw: Dict[str, Any], path: str, *, tiny: bool, mode_counts: Dict[str, int]) -> Tuple[Dict[str, Any], List[str]]:
    """(options, notes): every option with its value, and what was decided for the user (logged
    and kept in run.json). `mode_counts` counts the training records by pairing mode."""
    notes: List[str] = []
    for key in raw:
        if key not in OPTIONS:
            raise ConfigError(f'{path}: unknown key {key!r} (known: {", ".join(sorted(OPTIONS))})')
    for key, value in raw.items():
        _default, types, what = OPTIONS[key]
        if not _type_ok(value, types):
            raise ConfigError(f'{path}: {key} should be {what}, not {json.dumps(value)}')
    opts = {k: (list(v[0]) if isinstance(v[0], list) else dict(v[0]) if isinstance(v[0], dict) else v[0]) for k, v in OPTIONS.items()}
    if tiny:
        opts.update(TINY_DEFAULTS)
        if 'num_train_epochs' in raw and 'max_steps' not in raw:
            opts['max_steps'] = -1
        for key in ('model', 'tokenizer', 'dtype'):
            if raw.get(key) not in (None, OPTIONS[key][0]):
                notes.append(f'--tiny: {key} {raw[key]!r} from {os.path.basename(path)} is not used (the tiny model is built locally)')
    opts.update({k: v for k, v in raw.items() if not (tiny and k in ('model', 'tokenizer', 'dtype'))})

    def bad(key: str) -> ConfigError:
        return ConfigError(f'{path}: {key} should be {OPTIONS[key][2]}, not {json.dumps(opts[key])}')

    if not tiny and not opts['model']:
        raise ConfigError(f'{path}: model is required (a model id or a local directory; --tiny builds a tiny one instead)')
    if opts['dtype'] not in ('float32', 'bfloat16', 'float16', 'auto'):
        raise bad('dtype')
    if isinstance(opts['loss_type'], str):
        opts['loss_type'] = [opts['loss_type']]
    if not opts['loss_type'] or not all(isinstance(x, str) and x for x in opts['loss_type']):
        raise bad('loss_type')
    if 'sft' in opts['loss_type']:
        raise ConfigError(f"{path}: loss_type 'sft' is set through sft_weight (the weight of the chosen side's NLL)")
    for name in opts['loss_type']:
        if name not in LOSS_TYPES:
            raise ConfigError(f'{path}: loss_type {name!r} is not a loss type of TRL\'s DPOTrainer ({", ".join(LOSS_TYPES)})')
    for key in ('per_device_train_batch_size', 'gradient_accumulation_steps', 'logging_steps'):
        if opts[key] < 1:
            raise bad(key)
    for key in ('learning_rate', 'num_train_epochs'):
        if not opts[key] > 0:
            raise bad(key)
    if opts['max_steps'] == 0 or opts['max_steps'] < -1:
        raise bad('max_steps')
    if opts['max_length'] is not None and opts['max_length'] < 2:
        raise bad('max_length')
    if opts['heldout_pairs'] < 0:
        raise bad('heldout_pairs')
    if opts['save_steps'] < 0:
        raise bad('save_steps')
    if opts['save_total_limit'] is not None and opts['save_total_limit'] < 1:
        raise bad('save_total_limit')
    if opts['lora'] is not None:
        for key, value in opts['lora'].items():
            if key not in LORA_KEYS:
                raise ConfigError(f'{path}: lora.{key} is unknown (known: {", ".join(LORA_KEYS)})')
            if not _type_ok(value, LORA_KEYS[key]):
                raise ConfigError(f'{path}: lora.{key} has the wrong type ({json.dumps(value)})')

    present = [m for m, n in mode_counts.items() if n > 0]
    major = max(present, key=lambda m: (mode_counts[m], m == 'structurecoder')) if present else 'structurecoder'
    for key in ('beta', 'sft_weight'):
        if opts[key] is None:
            opts[key] = MODE_DEFAULTS[major][key]
            how = f'the {major} default' if len(present) <= 1 else (
                f'the {major} default: the export mixes {" and ".join(f"{mode_counts[m]} {m}" for m in present)} records; '
                f'set {key} in {os.path.basename(path)} to choose'
            )
            notes.append(f'{key} {opts[key]} ({how})')
    if not opts['beta'] > 0:
        raise bad('beta')
    if opts['sft_weight'] < 0:
        raise bad('sft_weight')
    return opts, notes


def lora_settings(lora: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """peft.LoraConfig keyword arguments for the `lora` option."""
    if lora is None:
        return None
    r = lora.get('r', 16)
    return {
        'r': r,
        'lora_alpha': lora.get('alpha', 2 * r),
        'lora_dropout': lora.get('dropout', 0.05),
        'target_modules': lora.get('target_modules', 'all-linear'),
        'task_type': 'CAUSAL_LM',
    }
