"""`train.py train`: one training run in a run folder (docs/training.md).

Phases: read and check the export and config.json; tokenize with the span masks; train with
MaskedDPOTrainer in the export's order; save the model (or LoRA adapter); read the held-out
pairs' per-token log-probs under the trained policy and the reference. status.json says where it
is; metrics.jsonl and batches.jsonl grow as it trains.

Signals: the first SIGTERM or SIGINT ends training at the next step boundary (all processes
agree first), saving a checkpoint when checkpoints are on, then exits 128 + the signal number
with the reason in status.json and on stderr; before or after training it stops at once. A
second signal exits immediately. With checkpoints (save_steps > 0) the same command resumes from
the newest one and keeps exactly the metrics and batch lines up to it.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from typing import Any, Dict, List, Optional

from . import RUN_FORMAT
from .config import CONFIG_FILE, ConfigError, lora_settings, read_config, resolve
from .export import ExportError, mode_counts, read_export, split_heldout
from .runfolder import (
    BATCHES_FILE,
    CHECKPOINTS_DIR,
    EXPORT_DIR,
    HELDOUT_FILE,
    METRICS_FILE,
    MODEL_DIR,
    RUN_FILE,
    TINY_MODEL_DIR,
    JsonLines,
    Status,
    is_main_process,
    keep_lines_through_step,
    last_complete_checkpoint,
    now_iso,
    read_json,
    write_json_atomic,
)
from .tokens import TokenizeError

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

# DPOConfig fields the trainer sets itself: given under "trl" they are refused, naming the option
# that controls them (or why it is fixed).
OWNED = {
    'output_dir': 'the run folder decides it',
    'beta': 'use beta',
    'loss_type': 'use loss_type',
    'loss_weights': 'use sft_weight',
    'learning_rate': 'use learning_rate',
    'per_device_train_batch_size': 'use per_device_train_batch_size',
    'gradient_accumulation_steps': 'use gradient_accumulation_steps',
    'num_train_epochs': 'use num_train_epochs',
    'max_steps': 'use max_steps',
    'max_length': 'use max_length (longer records are left out, never truncated)',
    'truncation_mode': 'records are never truncated',
    'logging_steps': 'use logging_steps',
    'save_steps': 'use save_steps',
    'save_strategy': 'use save_steps',
    'save_total_limit': 'use save_total_limit',
    'seed': 'use seed',
    'bf16': 'use bf16',
    'gradient_checkpointing': 'use gradient_checkpointing',
    'model_init_kwargs': 'use dtype',
    'train_sampling_strategy': 'the export order is kept',
    'group_by_length': 'the export order is kept',
    'remove_unused_columns': 'the trainer needs its columns',
    'precompute_ref_log_probs': 'the held-out log-probs need the reference model',
    'padding_free': 'not supported with span masks',
    'use_liger_kernel': 'its fused loss bypasses the masked log-probs',
}


class Interrupted(Exception):
    def __init__(self, signum: int, when: str):
        super().__init__(f'{signal.Signals(signum).name} received {when}')
        self.signum = signum


class Signals:
    def __init__(self) -> None:
        self.received: Optional[int] = None
        self.training = False
        #: What the run is doing, for the message of an interruption outside training.
        self.phase = 'before training'
        self.on_exit = lambda signum: None

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, _frame) -> None:
        if self.received is not None:
            self.on_exit(signum)
            os._exit(128 + signum)
        self.received = signum
        if not self.training:
            raise Interrupted(signum, self.phase)


def log(message: str) -> None:
    if is_main_process():
        print(f'pairforge-train: {message}', flush=True)


def _format_metrics(row: Dict[str, Any], max_steps: Optional[int]) -> str:
    if 'loss' not in row:
        keys = [k for k in ('train_runtime', 'train_loss') if k in row]
        return 'finished: ' + ', '.join(f'{k} {row[k]:.4g}' for k in keys if isinstance(row[k], (int, float)))
    parts = [f'step {row["step"]}' + (f'/{max_steps}' if max_steps else '')]
    for k in ('epoch', 'loss', 'rewards/margins', 'rewards/accuracies', 'learning_rate'):
        v = row.get(k)
        if isinstance(v, (int, float)):
            parts.append(f'{k} {v:.4g}')
    return ', '.join(parts)


def _versions() -> Dict[str, str]:
    import accelerate
    import tokenizers
    import torch
    import transformers
    import trl

    out = {'python': sys.version.split()[0], 'torch': torch.__version__, 'transformers': transformers.__version__, 'trl': trl.__version__, 'accelerate': accelerate.__version__, 'tokenizers': tokenizers.__version__}
    try:
        import peft

        out['peft'] = peft.__version__
    except ImportError:
        pass
    return out


def _dpo_config(opts: Dict[str, Any], run_dir: str, cfg_path: str, tiny: bool):
    import dataclasses

    import torch
    from trl import DPOConfig

    extra = dict(opts['trl'])
    fields = {f.name for f in dataclasses.fields(DPOConfig)}
    for key in extra:
        if key in OWNED:
            raise ConfigError(f'{cfg_path}: trl.{key} is not accepted ({OWNED[key]})')
        if key not in fields:
            raise ConfigError(f'{cfg_path}: trl.{key} is not a DPOConfig field')
    loss_type = list(opts['loss_type'])
    weights = [1.0] * len(loss_type)
    if opts['sft_weight'] > 0:
        loss_type.append('sft')
        weights.append(float(opts['sft_weight']))
    dtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16, 'auto': 'auto'}[opts['dtype']]
    settings = dict(
        output_dir=os.path.join(run_dir, CHECKPOINTS_DIR),
        beta=float(opts['beta']),
        loss_type=loss_type,
        loss_weights=weights,
        learning_rate=float(opts['learning_rate']),
        per_device_train_batch_size=opts['per_device_train_batch_size'],
        gradient_accumulation_steps=opts['gradient_accumulation_steps'],
        num_train_epochs=float(opts['num_train_epochs']),
        max_steps=opts['max_steps'],
        max_length=None,
        logging_steps=opts['logging_steps'],
        save_strategy='steps' if opts['save_steps'] > 0 else 'no',
        save_steps=opts['save_steps'] if opts['save_steps'] > 0 else 500,
        save_total_limit=opts['save_total_limit'],
        seed=opts['seed'],
        bf16=opts['bf16'],
        gradient_checkpointing=opts['gradient_checkpointing'],
        model_init_kwargs={'dtype': dtype},
        train_sampling_strategy='sequential',
        report_to='none',
        disable_tqdm=True,
        dataloader_num_workers=0,
        ddp_find_unused_parameters=False,
    )
    if not torch.cuda.is_available():
        settings['use_cpu'] = True
    settings.update(extra)
    try:
        return DPOConfig(**settings)
    except (ValueError, TypeError) as e:
        given = f' (given under trl: {", ".join(sorted(extra))})' if extra else ''
        raise ConfigError(f'{cfg_path}: the training options are refused by TRL\'s DPOConfig{given}: {e}') from None


def _load_tokenizer(name: str):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(name)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if tok.pad_token is None:
        raise TokenizeError(f'{name}: the tokenizer has neither a pad nor an EOS token to pad with')
    return tok


def train(run_dir: str, export_dir: Optional[str], tiny: bool) -> int:
    run_dir = os.path.abspath(run_dir)
    export_dir = os.path.abspath(export_dir or os.path.join(run_dir, EXPORT_DIR))
    main = is_main_process()
    if main:
        os.makedirs(run_dir, exist_ok=True)
    status = Status(run_dir, enabled=main)
    previous = read_json(status.path)
    if isinstance(previous, dict) and previous.get('state') == 'done':
        print(f'pairforge-train: error: {status.path}: this run folder holds a finished run; train in a new folder', file=sys.stderr)
        return EXIT_BAD_INPUT
    signals = Signals()
    signals.on_exit = lambda signum: status.end('interrupted', f'{signal.Signals(signum).name} received twice: stopped at once', 128 + signum)
    signals.install()
    status.update(state='loading', message='reading the export')
    try:
        return _train(run_dir, export_dir, tiny, status, signals)
    except Interrupted as e:
        message = f'{e}: stopped'
        status.end('interrupted', message, 128 + e.signum)
        print(f'pairforge-train: {message}', file=sys.stderr)
        return 128 + e.signum
    except (ExportError, ConfigError, TokenizeError) as e:
        status.end('failed', str(e), EXIT_BAD_INPUT)
        print(f'pairforge-train: error: {e}', file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as e:  # anything else: the traceback is in the log, the reason in status.json
        traceback.print_exc()
        status.end('failed', f'{type(e).__name__}: {e}', EXIT_FAILED)
        print(f'pairforge-train: failed: {type(e).__name__}: {e}', file=sys.stderr)
        return EXIT_FAILED


def _train(run_dir: str, export_dir: str, tiny: bool, status: Status, signals: Signals) -> int:
    main = is_main_process()
    cfg_path = os.path.join(run_dir, CONFIG_FILE)
    export = read_export(export_dir)
    opts, notes = resolve(read_config(run_dir), cfg_path, tiny=tiny, mode_counts=mode_counts(export.records))
    train_records, heldout_records = split_heldout(export.records, opts['heldout_pairs'])
    log(f'export {export_dir}: {len(export.records)} records of {len({r.pair_id for r in export.records})} pairs '
        f'({", ".join(f"{n} {m}" for m, n in mode_counts(export.records).items() if n)}); '
        f'{len(heldout_records)} pairs held out')
    for n in notes:
        log(n)

    status.update(message='loading the tokenizer and model')
    import datasets
    import torch
    import transformers
    from accelerate import PartialState

    from .heldout import heldout_rows
    from .tokens import dataset_rows, tokenize_records
    from .trainer import MaskedDPOTrainer, MetricsWriter, PairCollator, StopOnRequest

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    # Without CUDA the processes of a torchrun / accelerate launch job meet over gloo; the shared
    # state must be made so before anything asks for it (TrainingArguments does the same).
    state = PartialState(cpu=not torch.cuda.is_available())
    if tiny:
        from .tiny import ensure_tiny_model

        model_path = os.path.join(run_dir, TINY_MODEL_DIR)
        with state.main_process_first():
            if state.is_main_process:
                texts = [t for r in export.records for t in (r.prompt, r.chosen, r.rejected)]
                ensure_tiny_model(model_path, texts, opts['seed'])
        tokenizer_name = model_path
    else:
        model_path = opts['model']
        tokenizer_name = opts['tokenizer'] or opts['model']
    tokenizer = _load_tokenizer(tokenizer_name)

    status.update(message='tokenizing')
    data_path = export.data_path
    train_tok = tokenize_records(tokenizer, train_records, add_special_tokens=opts['add_special_tokens'], max_length=opts['max_length'], data_path=data_path)
    held_tok = tokenize_records(tokenizer, heldout_records, add_special_tokens=opts['add_special_tokens'], max_length=opts['max_length'], data_path=data_path)
    for line, pair_id, n in train_tok.too_long + held_tok.too_long:
        log(f'{data_path} line {line} (pair {pair_id}): {n} tokens, over max_length {opts["max_length"]}: left out')
    if not train_tok.pairs:
        raise ExportError(f'{data_path}: no record left to train on ({len(train_tok.too_long)} over max_length {opts["max_length"]}, {len(heldout_records)} held out)')

    info = {
        'format': RUN_FORMAT,
        'created_at': now_iso(),
        'tiny': tiny,
        'options': opts,
        'notes': notes,
        'export': {
            'dir': export_dir,
            'pairforge_version': export.version,
            'family': export.family,
            'training_sentence': export.training_sentence,
            'records': len(export.records),
            'sha256': next(f['sha256'] for f in export.manifest['files'] if f.get('name') == 'pairs.trl.jsonl'),
        },
        'model': model_path,
        'tokenizer': tokenizer_name,
        'train_records': len(train_tok.pairs),
        'masked_tokens': {
            'chosen': sum(sum(p.chosen.mask) for p in train_tok.pairs),
            'rejected': sum(sum(p.rejected.mask) for p in train_tok.pairs),
            'response': sum(len(p.chosen.ids) + len(p.rejected.ids) for p in train_tok.pairs),
        },
        'heldout_pairs': [p.record.pair_id for p in held_tok.pairs],
        'too_long': [{'line': line, 'pair_id': pid, 'tokens': n} for line, pid, n in train_tok.too_long + held_tok.too_long],
        'versions': _versions(),
        'world_size': state.num_processes,
    }

    # A restart of an unfinished run: resume from its newest complete checkpoint with the same options.
    resume = last_complete_checkpoint(os.path.join(run_dir, CHECKPOINTS_DIR), remove_partial=main)
    state.wait_for_everyone()
    run_path = os.path.join(run_dir, RUN_FILE)
    before = read_json(run_path)
    if resume and isinstance(before, dict) and (before.get('options') != opts or before.get('tiny') != tiny or before.get('export', {}).get('sha256') != info['export']['sha256']):
        raise ConfigError(f'{run_path}: this run folder holds a run with other options or another export (checkpoint {os.path.basename(resume)}); train in a new folder')
    resume_step = int(os.path.basename(resume).split('-')[-1]) if resume else 0
    metrics_path = os.path.join(run_dir, METRICS_FILE)
    batches_path = os.path.join(run_dir, BATCHES_FILE)
    if main:
        for path in (metrics_path, batches_path):
            keep_lines_through_step(path, resume_step)
        if os.path.exists(os.path.join(run_dir, HELDOUT_FILE)):
            os.remove(os.path.join(run_dir, HELDOUT_FILE))
        info['resumed_from'] = os.path.basename(resume) if resume else None
        write_json_atomic(run_path, info)
    if resume:
        log(f'resuming from {os.path.basename(resume)} (step {resume_step})')

    args = _dpo_config(opts, run_dir, cfg_path, tiny)
    peft_config = None
    if opts['lora'] is not None:
        from peft import LoraConfig

        peft_config = LoraConfig(**lora_settings(opts['lora']))
    batches = JsonLines(batches_path, enabled=main)
    records_by_index = {p.record.index: p.record for p in train_tok.pairs}

    def on_batch(step: int, per_process: List[List[int]]) -> None:
        batches.write({
            'step': step,
            'pair_ids': [[records_by_index[i].pair_id for i in ids] for ids in per_process],
            'lines': [[records_by_index[i].line for i in ids] for ids in per_process],
        })

    def echo(row: Dict[str, Any], st) -> None:
        log(_format_metrics(row, st.max_steps))
        status.update(step=row['step'], max_steps=st.max_steps, epoch=row.get('epoch'))

    def begin(st) -> None:
        status.update(step=st.global_step, max_steps=st.max_steps)

    stopper = StopOnRequest(lambda: signals.received is not None, save=opts['save_steps'] > 0)
    train_dataset = datasets.Dataset.from_dict(dataset_rows(train_tok.pairs))
    collator = PairCollator(pad_token_id=tokenizer.pad_token_id)
    trainer = MaskedDPOTrainer(
        model=model_path,
        args=args,
        train_dataset=train_dataset,
        processing_class=tokenizer,
        data_collator=collator,
        peft_config=peft_config,
        callbacks=[MetricsWriter(metrics_path, echo, begin), stopper],
        on_batch=on_batch,
    )
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    stopper.trainer = trainer

    status.update(state='training', message=f'training on {len(train_tok.pairs)} records', step=resume_step)
    log(f'training {len(train_tok.pairs)} records on {state.num_processes} process(es), {trainer.accelerator.device}; beta {opts["beta"]}, '
        f'loss {"+".join(args.loss_type)} (weights {args.loss_weights})')
    started = time.time()
    signals.training = True
    try:
        trainer.train(resume_from_checkpoint=resume)
    finally:
        signals.training = False
    if signals.received is not None and stopper.stopped_at is not None:
        signum = signals.received
        step = trainer.state.global_step
        saved = f'checkpoint-{step} saved in {CHECKPOINTS_DIR}/; the same command resumes from it' if opts['save_steps'] > 0 else 'nothing saved (save_steps is 0: a restart trains from the start)'
        message = f'{signal.Signals(signum).name}: training stopped at step {step} of {trainer.state.max_steps}; {saved}'
        status.end('interrupted', message, 128 + signum)
        print(f'pairforge-train: {message}', file=sys.stderr)
        return 128 + signum

    signals.phase = f'while saving the model (training finished; {MODEL_DIR}/ may be incomplete)'
    status.update(state='saving', message=f'saving the {"adapter" if peft_config else "model"} to {MODEL_DIR}/')
    trainer.save_model(os.path.join(run_dir, MODEL_DIR))
    if main:
        tokenizer.save_pretrained(os.path.join(run_dir, MODEL_DIR))
    log(f'trained {trainer.state.global_step} steps in {time.time() - started:.1f} s; saved {MODEL_DIR}/')
    if signals.received is not None:  # it came as the last step ended: the model is complete and saved
        raise Interrupted(signals.received, f'as training ended (the model is saved in {MODEL_DIR}/; no held-out log-probs)')

    signals.phase = f'while reading the held-out log-probs (the model is saved in {MODEL_DIR}/)'
    status.update(state='evaluating', message=f'held-out log-probs of {len(held_tok.pairs)} pairs')
    if held_tok.pairs:
        logps = trainer.response_logps(held_tok.pairs, batch_size=opts['per_device_train_batch_size'])
        if main:
            rows = heldout_rows(held_tok.pairs, logps, {
                'beta': float(opts['beta']),
                'policy_model': MODEL_DIR,
                'reference_model': model_path if not tiny else TINY_MODEL_DIR,
                'base_model': model_path if not tiny else TINY_MODEL_DIR,
                'adapter': peft_config is not None,
                'step': trainer.state.global_step,
                'family': export.family,
                'training_sentence': export.training_sentence,
                'add_special_tokens': opts['add_special_tokens'],
                'export_sha256': info['export']['sha256'],
            })
            path = os.path.join(run_dir, HELDOUT_FILE)
            tmp = f'{path}.tmp-{os.getpid()}'
            out = JsonLines(tmp, enabled=True)
            for row in rows:
                out.write(row)
            os.replace(tmp, path)
            s = rows[-1]
            log(f'held out {s["pairs"]} pairs: the trained policy prefers the chosen side on {s["prefers_chosen"]}; mean margin {s["mean_margin"]:.4g}')
    status.end('done', f'trained {trainer.state.global_step} steps', 0)
    return 0
