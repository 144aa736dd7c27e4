"""Checks of the trainer's masked loss against a direct computation, driven by
test/integration/training/trainer.test.ts (which asserts on the JSON this prints).

  python masked_loss_check.py EXPORT_DIR WORK_DIR

Everything here is computed independently of the trainer's own helpers: token ranges from the
byte-level token strings (as the scoring stage places tokens, docs/scoring.md "Token positions")
instead of the tokenizer's offsets, the mask rule written out again, and the DPO loss from one
unpadded forward pass per sequence in float64. Only the model, the tokenizer and the trainer
under test come from server/training/python.
"""

import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'server', 'training', 'python'))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from pairforge_trainer.config import resolve  # noqa: E402
from pairforge_trainer.export import Record, mode_counts, read_export  # noqa: E402
from pairforge_trainer.run import _dpo_config  # noqa: E402
from pairforge_trainer.tiny import ensure_tiny_model  # noqa: E402
from pairforge_trainer.tokens import ResponseEncoder, tokenize_record  # noqa: E402
from pairforge_trainer.trainer import MaskedDPOTrainer, PairCollator  # noqa: E402


def gpt2_byte_decoder():
    """GPT-2's printable alphabet back to bytes."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


BYTE_OF = gpt2_byte_decoder()


def ranges_from_bytes(tokenizer, ids, text):
    """Each token's [start, end) in code points: the smallest range of whole characters holding
    its bytes; a token with no bytes is the empty range where it sits."""
    special = set(tokenizer.all_special_ids) | {tokenizer.convert_tokens_to_ids(t) for t in tokenizer.get_added_vocab()}
    cp_of_byte = []
    for i, ch in enumerate(text):
        cp_of_byte.extend([i] * len(ch.encode('utf-8')))
    out = []
    pos = 0
    for tid in ids:
        tok = tokenizer.convert_ids_to_tokens(tid)
        n = len(tok.encode('utf-8')) if tid in special else len(bytes(BYTE_OF[c] for c in tok))
        if n == 0:
            p = cp_of_byte[pos] if pos < len(cp_of_byte) else len(text)
            out.append((p, p))
        else:
            out.append((cp_of_byte[pos], cp_of_byte[pos + n - 1] + 1))
        pos += n
    assert pos == len(cp_of_byte), f'tokens hold {pos} bytes, the text {len(cp_of_byte)}'
    return out


def counts(s, e, spans):
    for a, b in spans:
        if a < b and ((s == e and a <= s < b) or (s < e and s < b and a < e)):
            return 1
    return 0


def synthetic(base: Record, index: int, chosen: str, rejected: str, chosen_spans, rejected_spans) -> Record:
    return Record(index=index, line=10_000 + index, prompt=base.prompt, chosen=chosen, rejected=rejected,
                  chosen_spans=tuple(chosen_spans), rejected_spans=tuple(rejected_spans), pair_id=10_000 + index,
                  pair_key=None, mode='iterpref', format='chat')


def seq_logps(model, ids):
    """log p(ids[t] | ids[:t]) for t >= 1, one unpadded sequence."""
    x = torch.tensor([ids])
    with torch.no_grad():
        logits = model(input_ids=x).logits[0].double()
    lp = torch.log_softmax(logits[:-1], dim=-1)
    return lp.gather(1, x[0, 1:].unsqueeze(1)).squeeze(1)


def main():
    export_dir, work = sys.argv[1], sys.argv[2]
    export = read_export(export_dir)
    model_dir = ensure_tiny_model(os.path.join(work, 'tiny-model'), [t for r in export.records for t in (r.prompt, r.chosen, r.rejected)], 42)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    encoder = ResponseEncoder(tokenizer)
    iterpref = next(r for r in export.records if r.mode == 'iterpref' and 0 < sum(b - a for a, b in r.rejected_spans) < len(r.rejected))
    fim = next(r for r in export.records if r.format == 'fim')
    # Hard texts for the offsets: astral characters, an accented letter, CRLF, and spans that end
    # inside a token.
    astral = synthetic(iterpref, 0, 'x = "é😀"\r\n    return x  # 🎉 done\r\n', 'y = "😀é"\r\n    return y\r\n', [(0, 11)], [(0, 9), (20, 22)])
    records = [fim, iterpref, astral]

    # 1. Token ranges: the tokenizer's offsets (what the trainer uses) against the byte-level oracle.
    range_tokens = 0
    range_mismatches = []
    mask_mismatches = []
    tokenized = []
    for r in export.records + [astral]:
        p = tokenize_record(tokenizer, encoder, r, True, f'line {r.line}')
        tokenized.append(p)
        for side in ('chosen', 'rejected'):
            t = p.side(side)
            oracle = ranges_from_bytes(tokenizer, t.ids, r.response(side))
            range_tokens += len(t.ids)
            for i, (got, want) in enumerate(zip(t.ranges, oracle)):
                if tuple(got) != tuple(want):
                    range_mismatches.append({'line': r.line, 'side': side, 'token': i, 'got': got, 'want': want})
            want_mask = [counts(s, e, r.spans(side)) for s, e in oracle]
            if want_mask != t.mask:
                mask_mismatches.append({'line': r.line, 'side': side})
    astral_tok = tokenized[-1]

    # 2. The loss through the trainer (TRL's _compute_loss with the span mask) against a direct
    #    computation, in float64, with a policy that differs from the reference.
    def make_trainer(sft_weight, loss_type):
        opts, _ = resolve({'beta': 0.3, 'sft_weight': sft_weight, 'loss_type': loss_type, 'per_device_train_batch_size': 4}, os.path.join(work, 'config.json'), tiny=True, mode_counts=mode_counts(export.records))
        args = _dpo_config(opts, work, 'config.json', tiny=True)
        args.model_init_kwargs = {'dtype': torch.float64}
        policy = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float64)
        g = torch.Generator().manual_seed(7)
        with torch.no_grad():
            for prm in policy.parameters():
                prm.add_(0.05 * torch.randn(prm.shape, generator=g, dtype=prm.dtype))
        from datasets import Dataset
        from pairforge_trainer.tokens import dataset_rows

        ds = Dataset.from_dict(dataset_rows(tokenized[:4]))
        trainer = MaskedDPOTrainer(model=policy, args=args, train_dataset=ds, processing_class=tokenizer,
                                   data_collator=PairCollator(pad_token_id=tokenizer.pad_token_id))
        return trainer, opts

    reference = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float64)
    reference.eval()
    chosen_tokens = {r.line: p for r, p in zip(export.records + [astral], tokenized)}
    batch_pairs = [chosen_tokens[r.line] for r in records]

    def direct(policy, beta, sft_weight, loss_type):
        policy.eval()
        deltas, sft_sum, sft_n, lp_c = [], 0.0, 0, []
        for p in batch_pairs:
            side_vals = {}
            for side in ('chosen', 'rejected'):
                t = p.side(side)
                r = p.record
                oracle = ranges_from_bytes(tokenizer, t.ids, r.response(side))
                mask = torch.tensor([counts(s, e, r.spans(side)) for s, e in oracle], dtype=torch.float64)
                ids = p.prompt_ids + t.ids
                n = len(p.prompt_ids)
                lp = seq_logps(policy, ids)[n - 1:]
                lr = seq_logps(reference, ids)[n - 1:]
                side_vals[side] = ((lp * mask).sum().item(), (lr * mask).sum().item())
                if side == 'chosen':
                    sft_sum += -(lp * mask).sum().item()
                    sft_n += int(mask.sum().item())
                    lp_c.append((lp * mask).sum().item())
            (pc, rc), (pr, rr) = side_vals['chosen'], side_vals['rejected']
            deltas.append((pc - rc) - (pr - rr))
        if loss_type == 'sigmoid':
            dpo = sum(-F.logsigmoid(torch.tensor(beta * d, dtype=torch.float64)).item() for d in deltas) / len(deltas)
        else:  # hinge
            dpo = sum(max(0.0, 1 - beta * d) for d in deltas) / len(deltas)
        return dpo + sft_weight * (sft_sum / sft_n), sum(lp_c) / len(lp_c), [beta * d for d in deltas]

    cases = []
    for name, sft_weight, loss_type in (('sigmoid', 0.0, 'sigmoid'), ('sigmoid+sft', 1.0, 'sigmoid'), ('hinge', 0.0, 'hinge')):
        trainer, opts = make_trainer(sft_weight, loss_type)
        collator = trainer.data_collator
        examples = [{'prompt_ids': p.prompt_ids, 'chosen_ids': p.chosen.ids, 'rejected_ids': p.rejected.ids,
                     'chosen_mask': p.chosen.mask, 'rejected_mask': p.rejected.mask, 'record_index': p.record.index} for p in batch_pairs]
        batch = collator(examples)
        trainer.model.train()
        with torch.no_grad():
            loss = trainer.compute_loss(trainer.model, dict(batch)).item()
        logged = {k: v[-1] for k, v in trainer._metrics['train'].items()}
        want, want_lpc, margins = direct(trainer.model, opts['beta'], sft_weight, loss_type)
        cases.append({'name': name, 'trainer': loss, 'direct': want, 'abs_err': abs(loss - want),
                      'logps_chosen_err': abs(logged['logps/chosen'] - want_lpc),
                      'margins_err': abs(logged['rewards/margins'] - sum(margins) / len(margins)),
                      'loss_minus_log2': abs(loss - math.log(2))})

    # 3. Gradients: the loss's gradient reaches the logits of a position only when the token it
    #    predicts is in the loss; the prompt, padding and response tokens outside the spans get
    #    exactly zero.
    trainer, _ = make_trainer(0.0, 'sigmoid')
    model = trainer.model
    model.train()
    captured = {}

    def keep_logits(_module, _inputs, output):
        output.logits.retain_grad()
        captured['logits'] = output.logits

    pairs = [astral_tok, chosen_tokens[iterpref.line]]
    examples = [{'prompt_ids': p.prompt_ids, 'chosen_ids': p.chosen.ids, 'rejected_ids': p.rejected.ids,
                 'chosen_mask': p.chosen.mask, 'rejected_mask': p.rejected.mask, 'record_index': p.record.index} for p in pairs]
    batch = trainer.data_collator(examples)
    handle = model.register_forward_hook(keep_logits)
    model.zero_grad()
    trainer.compute_loss(model, dict(batch)).backward()
    handle.remove()
    grad = captured['logits'].grad  # [rows, T, V]; position t predicts token t + 1
    # Which tokens should count, from the oracle's ranges (not from the batch the trainer built).
    width = batch['input_ids'].shape[1]
    expected = []
    for side in ('chosen', 'rejected'):
        for p in pairs:
            t = p.side(side)
            oracle = ranges_from_bytes(tokenizer, t.ids, p.record.response(side))
            row = [0] * len(p.prompt_ids) + [counts(s, e, p.record.spans(side)) for s, e in oracle]
            expected.append(row + [0] * (width - len(row)))
    target_mask = torch.tensor(expected)[:, 1:]
    norms = grad[:, :-1, :].abs().amax(dim=-1)
    out_positions = norms[target_mask == 0]
    in_positions = norms[target_mask == 1]
    gradient = {
        'out_positions': int(out_positions.numel()),
        'max_abs_out': float(out_positions.max().item()) if out_positions.numel() else 0.0,
        'in_positions': int(in_positions.numel()),
        'min_max_abs_in': float(in_positions.min().item()),
        'rejected_out_of_span_response_tokens': int(sum(1 - m for m in astral_tok.rejected.mask) + sum(1 - m for m in pairs[1].rejected.mask)),
    }

    # 4. Perturbation: replace the rejected side's last token (outside every span of the
    #    synthetic pair, after its last span): loss and every parameter gradient are unchanged.
    #    The same change inside a span (the first rejected token) moves the loss: the check can fail.
    def loss_and_grads(rejected_ids, rejected_mask):
        model.zero_grad()
        ex = [{'prompt_ids': astral_tok.prompt_ids, 'chosen_ids': astral_tok.chosen.ids, 'rejected_ids': rejected_ids,
               'chosen_mask': astral_tok.chosen.mask, 'rejected_mask': rejected_mask, 'record_index': 0}]
        loss = trainer.compute_loss(model, dict(trainer.data_collator(ex)))
        loss.backward()
        return loss.item(), [prm.grad.detach().clone() for prm in model.parameters() if prm.grad is not None]

    ids = list(astral_tok.rejected.ids)
    mask = list(astral_tok.rejected.mask)
    assert mask[-1] == 0 and mask[0] == 1, (mask, astral_tok.rejected.ranges)
    other = (ids[-1] + 1) % len(tokenizer)
    base_loss, base_grads = loss_and_grads(ids, mask)
    out_loss, out_grads = loss_and_grads(ids[:-1] + [other], mask)
    in_loss, _ = loss_and_grads([(ids[0] + 1) % len(tokenizer)] + ids[1:], mask)
    perturb = {
        'outside_loss_diff': abs(out_loss - base_loss),
        'outside_max_grad_diff': max(float((a - b).abs().max().item()) for a, b in zip(base_grads, out_grads)),
        'grad_tensors': len(base_grads),
        'inside_loss_diff': abs(in_loss - base_loss),
    }
    print(json.dumps({
        'ranges': {'tokens': range_tokens, 'mismatches': range_mismatches[:5], 'mismatch_count': len(range_mismatches), 'mask_mismatches': mask_mismatches,
                   'astral_rejected_mask': astral_tok.rejected.mask, 'astral_rejected_ranges': astral_tok.rejected.ranges},
        'loss': cases,
        'gradient': gradient,
        'perturb': perturb,
    }))


if __name__ == '__main__':
    main()
