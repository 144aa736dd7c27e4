"""Masked DPO on TRL's DPOTrainer (docs/training.md "How the mask enters TRL").

TRL's `_compute_loss` takes per-token log-probs of the whole sequence, zeroes them where the
batch's `completion_mask` is 0 and sums the rest; every loss type (sigmoid, ipo, hinge, ...), the
SFT term, the reference pass and the logged rewards/logps use those sums. PairForge's collator
puts the span mask there instead of TRL's all-ones completion mask: 0 on the prompt and on the
response tokens outside the loss spans, 1 on the tokens the spans mark. So the loss is DPO on
the masked summed log-probs with everything else TRL's own.

The dataset arrives tokenized (pairforge_trainer.tokens), so TRL's own preparation (append EOS,
tokenize prompt+completion in one call) is skipped; the sampler is sequential so batches follow
the export's curriculum order.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch
from accelerate.utils import gather_object, is_peft_model
from torch.utils.data import SequentialSampler
from transformers import TrainerCallback
from trl import DPOTrainer
from trl.trainer.dpo_trainer import DataCollatorForPreference
from trl.trainer.utils import pad, selective_log_softmax, use_adapter

from .tokens import PairTokens

COLUMNS = ['prompt_ids', 'chosen_ids', 'rejected_ids', 'chosen_mask', 'rejected_mask', 'record_index']


@dataclass
class PairCollator(DataCollatorForPreference):
    """TRL's preference batch (chosen rows, then rejected rows, right-padded) whose
    completion_mask is the span mask, plus each row's record index (taken out before the model
    sees the batch)."""

    def torch_call(self, examples: List[Dict[str, Any]]) -> Dict[str, Any]:
        ids, masks = [], []
        for side in ('chosen', 'rejected'):
            for ex in examples:
                ids.append(torch.tensor(list(ex['prompt_ids']) + list(ex[f'{side}_ids'])))
                masks.append(torch.tensor([0] * len(ex['prompt_ids']) + list(ex[f'{side}_mask']), dtype=torch.long))
        return {
            'input_ids': pad(ids, padding_value=self.pad_token_id, padding_side='right', pad_to_multiple_of=self.pad_to_multiple_of),
            'attention_mask': pad([torch.ones_like(m) for m in masks], padding_value=0, padding_side='right', pad_to_multiple_of=self.pad_to_multiple_of),
            'completion_mask': pad(masks, padding_value=0, padding_side='right', pad_to_multiple_of=self.pad_to_multiple_of),
            'record_index': torch.tensor([int(ex['record_index']) for ex in examples], dtype=torch.long),
        }


class MaskedDPOTrainer(DPOTrainer):
    """DPOTrainer over a pre-tokenized, span-masked dataset, trained in dataset order.
    `on_batch(step, record_indices_per_process)` is called (on every process, with the same
    gathered value) for each training micro-batch."""

    def __init__(self, *args, on_batch: Optional[Callable[[int, List[List[int]]], None]] = None, **kwargs):
        self._on_batch = on_batch
        super().__init__(*args, **kwargs)

    def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
        return dataset

    def _set_signature_columns_if_needed(self):
        if self._signature_columns is None:
            self._signature_columns = list(COLUMNS)

    def _get_train_sampler(self, train_dataset=None):
        return SequentialSampler(train_dataset if train_dataset is not None else self.train_dataset)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        index = inputs.pop('record_index', None)
        if index is not None and self._on_batch is not None and self.model.training:
            self._on_batch(self.state.global_step + 1, gather_object([index.tolist()]))
        return super().compute_loss(model, inputs, return_outputs=return_outputs, num_items_in_batch=num_items_in_batch)

    def _forward_logps(self, model, batch: Dict[str, torch.Tensor]) -> torch.Tensor:
        out = model(input_ids=batch['input_ids'], attention_mask=batch['attention_mask'], use_cache=False)
        return selective_log_softmax(out.logits[..., :-1, :].float(), batch['input_ids'][..., 1:])

    @torch.no_grad()
    def response_logps(self, pairs: Sequence[PairTokens], batch_size: int) -> List[Dict[str, Dict[str, List[float]]]]:
        """Every response token's log-prob under the trained policy and the reference, per pair:
        [{'chosen': {'policy': [...], 'ref': [...]}, 'rejected': {...}}]. Run on every process
        with the same pairs (sharded engines need all of them in each forward)."""
        collator = PairCollator(pad_token_id=self.data_collator.pad_token_id)
        model = self.model_wrapped if self.model_wrapped is not None else self.model
        was_training = self.model.training
        self.model.eval()
        device = self.accelerator.device
        results: List[Dict[str, Dict[str, List[float]]]] = []
        try:
            for start in range(0, len(pairs), batch_size):
                chunk = pairs[start:start + batch_size]
                examples = [
                    {
                        'prompt_ids': p.prompt_ids,
                        'chosen_ids': p.chosen.ids,
                        'rejected_ids': p.rejected.ids,
                        'chosen_mask': [1] * len(p.chosen.ids),
                        'rejected_mask': [1] * len(p.rejected.ids),
                        'record_index': p.record.index,
                    }
                    for p in chunk
                ]
                batch = collator(examples)
                batch = {k: v.to(device) for k, v in batch.items() if k in ('input_ids', 'attention_mask')}
                with self.accelerator.autocast():
                    policy = self._forward_logps(model, batch)
                    if self.ref_model is not None:
                        ref = self._forward_logps(self.ref_model, batch)
                    elif is_peft_model(self.accelerator.unwrap_model(self.model)):
                        unwrapped = self.accelerator.unwrap_model(self.model)
                        with use_adapter(unwrapped, adapter_name='ref' if 'ref' in unwrapped.peft_config else None):
                            ref = self._forward_logps(model, batch)
                    else:
                        raise RuntimeError('no reference model to read the held-out log-probs from')
                policy, ref = policy.cpu(), ref.cpu()
                for j, p in enumerate(chunk):
                    entry = {}
                    for s, side in enumerate(('chosen', 'rejected')):
                        row = j + s * len(chunk)
                        first = len(p.prompt_ids) - 1  # the log-prob of token k sits at position k - 1
                        n = len(p.side(side).ids)
                        entry[side] = {
                            'policy': policy[row, first:first + n].tolist(),
                            'ref': ref[row, first:first + n].tolist(),
                        }
                    results.append(entry)
        finally:
            if was_training:
                self.model.train()
        return results


def _json_value(v: Any) -> Any:
    if isinstance(v, torch.Tensor):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class MetricsWriter(TrainerCallback):
    """Each log event as one JSON line (TRL's names, plus step, epoch and a unix time), flushed at
    once so a `tail -F` sees it; `echo(row, state)` is told too (the console line), and
    `begin(state)` when training starts (max_steps is known then)."""

    def __init__(self, path: str, echo: Callable[[Dict[str, Any], Any], None], begin: Callable[[Any], None]):
        self._path = path
        self._echo = echo
        self._begin = begin

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self._begin(state)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        row: Dict[str, Any] = {'step': state.global_step, 'epoch': _json_value(state.epoch)}
        for k, v in logs.items():
            row[k] = _json_value(v)
        row['time'] = round(time.time(), 3)
        with open(self._path, 'a', encoding='utf-8') as f:
            f.write(json.dumps(row) + '\n')
            f.flush()
        self._echo(row, state)


class StopOnRequest(TrainerCallback):
    """Ends training at the next step boundary once `requested()` is true on any process (the
    processes agree first, so none waits in a collective the others left), saving a checkpoint
    when checkpoints are on."""

    def __init__(self, requested: Callable[[], bool], save: bool):
        self._requested = requested
        self._save = save
        self.trainer: Optional[MaskedDPOTrainer] = None
        self.stopped_at: Optional[int] = None

    def _anywhere(self) -> bool:
        flag = self._requested()
        acc = self.trainer.accelerator if self.trainer is not None else None
        if acc is None or acc.num_processes == 1:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=acc.device)
        return bool(acc.reduce(t, reduction='sum').item() > 0)

    def on_step_end(self, args, state, control, **kwargs):
        if self._anywhere():
            control.should_training_stop = True
            if self._save:
                control.should_save = True
            self.stopped_at = state.global_step
        return control
