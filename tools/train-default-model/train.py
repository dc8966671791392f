"""Train the PolyPrune default model (a small multilingual Llama) on two CPU cores.

Data: work/corpus/<lang>.train.txt from prepare_data.py; each language's paragraphs are joined with
"\n\n" and tokenized once (no BOS), as the eval text is. Every step draws B windows of T+1 tokens:
the language with probability proportional to sqrt(its token count) (temperature sampling, so the
tiny UDHR-only Swahili is seen a few dozen times instead of thousands), the offset uniformly. All
draws come from one seeded torch.Generator, so the data order is fixed by --seed.

Optimizer: AdamW (betas 0.9/0.95, weight decay 0.1 on matrices), linear warmup then cosine decay to
10 % of the peak learning rate, gradient clipping at 1.0. Writes work/final.pt (state dict + config)
and a checkpoint every --ckpt-every steps that --resume continues from.
"""

import argparse
import json
import math
import os
import time

import sentencepiece as spm
import torch
import torch.nn.functional as F

from model import LlamaConfig, LlamaForCausalLM, count_params, lm_loss
from prepare_data import LANGS

MODEL_ARGS = {
    "vocab_size": 8192,
    "hidden_size": 256,
    "intermediate_size": 704,
    "num_hidden_layers": 6,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 256,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "tie_word_embeddings": True,
}


def load_streams(work, sp):
    cache = os.path.join(work, "train-tokens.pt")
    if os.path.exists(cache):
        return torch.load(cache)
    streams = {}
    for lang in LANGS:
        with open(os.path.join(work, "corpus", f"{lang}.train.txt"), encoding="utf-8") as f:
            paras = f.read().split("\n")[:-1]
        streams[lang] = torch.tensor(sp.encode("\n\n".join(paras)), dtype=torch.int32)
    torch.save(streams, cache)
    return streams


def held_out_windows(work, sp, seqlen, max_windows):
    out = {}
    for lang in LANGS:
        with open(os.path.join(work, "corpus", f"{lang}.eval.txt"), encoding="utf-8") as f:
            paras = f.read().split("\n")[:-1]
        ids = sp.encode("\n\n".join(paras))
        n = min(max_windows, len(ids) // seqlen)
        out[lang] = torch.tensor(ids[: n * seqlen], dtype=torch.int64).view(n, seqlen)
    return out


def token_bytes_table(sp):
    """UTF-8 byte length of every piece as text: <0xXX> = 1, U+2581 counts as one space."""
    table = []
    for i in range(sp.get_piece_size()):
        if sp.is_byte(i):
            table.append(1)
        elif sp.is_control(i) or sp.is_unknown(i):
            table.append(0)
        else:
            table.append(len(sp.id_to_piece(i).replace("\u2581", " ").encode("utf-8")))
    return torch.tensor(table, dtype=torch.int64)


@torch.no_grad()
def bits_per_byte(model, windows, nbytes):
    """Sum NLL (nats, log-softmax in float64) over tokens 1..T-1 of each window / ln 2 / target bytes."""
    nll = 0.0
    nb = 0
    for w in windows:
        logits = model(w[None, :-1])[0].double()  # (T-1, V)
        logp = torch.log_softmax(logits, dim=-1)
        tgt = w[1:]
        nll += -logp.gather(1, tgt[:, None]).sum().item()
        nb += int(nbytes[tgt].sum())
    return nll / math.log(2) / nb, nll, nb


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--ckpt-every", type=int, default=50)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--out-name", default="final.pt")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(args.work, "spm.model"))
    cfg = LlamaConfig(**MODEL_ARGS)
    assert cfg.vocab_size == sp.get_piece_size()
    model = LlamaForCausalLM(cfg)
    n_params = count_params(model)
    print(f"model: {n_params} parameters ({n_params - cfg.vocab_size * cfg.hidden_size} without embeddings)",
          flush=True)

    streams = load_streams(args.work, sp)
    langs = list(streams)
    sizes = torch.tensor([len(streams[l]) for l in langs], dtype=torch.float64)
    probs = sizes.sqrt() / sizes.sqrt().sum()
    for l, n, p in zip(langs, sizes.tolist(), probs.tolist()):
        print(f"  {l}: {int(n)} train tokens, sampling p={p:.4f}", flush=True)
    monitor = held_out_windows(args.work, sp, args.seq, 4)
    nbytes = token_bytes_table(sp)

    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.95), eps=1e-8,
    )
    gen = torch.Generator().manual_seed(args.seed)
    step0 = 0
    elapsed0 = 0.0
    cpu0 = 0.0
    ckpt_path = os.path.join(args.work, "ckpt.pt")
    log = []
    run_key = {k: getattr(args, k) for k in ("steps", "batch", "seq", "lr", "warmup", "seed")}
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        if ck.get("run_key") != run_key:
            print(f"ignoring {ckpt_path}: it belongs to another run ({ck.get('run_key')})", flush=True)
            ck = None
    else:
        ck = None
    if ck is not None:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"])
        step0, elapsed0, log = ck["step"], ck["elapsed"], ck["log"]
        cpu0 = ck.get("cpu", 0.0)
        print(f"resumed at step {step0}", flush=True)

    T = args.seq
    t_start = time.time() - elapsed0
    c_start = time.process_time() - cpu0
    for step in range(step0, args.steps):
        li = torch.multinomial(probs, args.batch, replacement=True, generator=gen)
        u = torch.rand(args.batch, generator=gen, dtype=torch.float64)
        rows = []
        for k in range(args.batch):
            s = streams[langs[li[k]]]
            off = int(u[k].item() * (len(s) - T - 1))
            rows.append(s[off:off + T + 1])
        batch = torch.stack(rows).long()  # (B, T+1)
        lr = lr_at(step, args.steps, args.lr, args.warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        loss = lm_loss(model, batch[:, :-1], batch[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        done = step + 1
        if done % args.log_every == 0 or done == 1:
            el = time.time() - t_start
            print(f"step {done}/{args.steps} loss {loss.item():.4f} gnorm {gnorm:.2f} lr {lr:.2e} "
                  f"elapsed {el / 60:.1f} min ({el / done:.2f} s/step)", flush=True)
            log.append({"step": done, "loss": round(loss.item(), 4), "elapsed_s": round(el, 1)})
        if done % args.eval_every == 0 or done == args.steps:
            model.eval()
            res = {l: round(bits_per_byte(model, monitor[l], nbytes)[0], 3) for l in langs}
            model.train()
            print(f"  held-out bpb (first 4 windows): {json.dumps(res)}", flush=True)
            log.append({"step": done, "monitor_bpb": res})
        if done % args.ckpt_every == 0 and done < args.steps:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                        "step": done, "elapsed": time.time() - t_start, "log": log, "run_key": run_key,
                        "cpu": time.process_time() - c_start}, ckpt_path)

    train_s = time.time() - t_start
    cpu_s = time.process_time() - c_start
    print(f"training done: {args.steps} steps in {train_s / 60:.1f} min ({cpu_s / 60:.1f} CPU-min)", flush=True)
    torch.save({
        "model": model.state_dict(),
        "config": MODEL_ARGS,
        "train": {
            "steps": args.steps, "batch": args.batch, "seq": args.seq, "lr": args.lr,
            "warmup": args.warmup, "seed": args.seed, "threads": args.threads,
            "seconds": round(train_s, 1), "cpu_seconds": round(cpu_s, 1), "tokens": args.steps * args.batch * T,
            "sampling": {l: round(p, 5) for l, p in zip(langs, probs.tolist())},
            "train_tokens": {l: int(n) for l, n in zip(langs, sizes.tolist())},
            "torch": torch.__version__,
        },
        "log": log,
    }, os.path.join(args.work, args.out_name))


if __name__ == "__main__":
    main()
