"""Write the trained model as a Hugging Face Llama folder plus everything the app needs offline.

Output folder (public/models/polyprune-ml/):
  config.json, model.safetensors, tokenizer.json, tokenizer_config.json (HF layout)
  split.json                      which text is train / calibration / eval, per language
  calib/<lang>.txt, eval/<lang>.txt   held-out text (paragraphs joined with "\n\n", no final newline)
  eval-<lang>.safetensors         input_ids I32 [n, seqlen]: the eval windows (see metrics.json)
  metrics.json                    held-out bits per byte per language, as computed here by PyTorch
  hashes.json                     sha256 of every file above
  MODEL_CARD.md                   written by card.py
"""

import argparse
import hashlib
import json
import math
import os
import shutil
import struct

import sentencepiece as spm
import torch

from model import LlamaConfig, LlamaForCausalLM, count_params
from prepare_data import LANGS
from train import token_bytes_table

EVAL_SEQLEN = 128
EVAL_MAX_WINDOWS = 32

DTYPES = {torch.float32: "F32", torch.int32: "I32"}
DTYPE_SIZE = {"F32": 4, "I32": 4}


def write_safetensors(path, tensors, metadata=None):
    """Standard safetensors: u64 LE header length, JSON header padded with spaces to a multiple of 8,
    raw little-endian data. Tensors sorted by name (all dtypes here are 4 bytes wide)."""
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        dt = DTYPES[t.dtype]
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        assert len(data) == t.numel() * DTYPE_SIZE[dt]
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def read_paras(path):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")[:-1]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ids_sha256(ids):
    """sha256 of the whole sentencepiece id sequence as int32 little-endian bytes."""
    return hashlib.sha256(struct.pack(f"<{len(ids)}i", *ids)).hexdigest()


@torch.no_grad()
def eval_windows(model, windows, nbytes):
    """Per window: logits in fp32, log-softmax in float64, NLL of tokens 1..T-1."""
    per_window = []
    target_bytes = 0
    for w in windows:
        logits = model(w[None, :-1].long())[0].double()  # (T-1, V)
        logp = torch.log_softmax(logits, dim=-1)
        tgt = w[1:].long()
        per_window.append(-logp.gather(1, tgt[:, None]).sum().item())
        target_bytes += int(nbytes[tgt].sum())
    return sum(per_window), target_bytes, per_window


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--checkpoint", default="final.pt")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = args.out
    os.makedirs(out, exist_ok=True)

    ck = torch.load(os.path.join(args.work, args.checkpoint))
    cfg = LlamaConfig(**ck["config"])
    model = LlamaForCausalLM(cfg)
    model.load_state_dict(ck["model"])
    model.eval()
    sp = spm.SentencePieceProcessor(model_file=os.path.join(args.work, "spm.model"))
    nbytes = token_bytes_table(sp)

    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg.to_hf(), f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(out, "model.safetensors"), model.hf_state_dict(), {"format": "pt"})
    shutil.copyfile(os.path.join(args.work, "split.json"), os.path.join(out, "split.json"))

    for sub in ("calib", "eval"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    metrics_langs = {}
    total_nll = 0.0
    total_bytes = 0
    for lang in LANGS:
        for part, sub in (("calib", "calib"), ("eval", "eval")):
            text = "\n\n".join(read_paras(os.path.join(args.work, "corpus", f"{lang}.{part}.txt")))
            with open(os.path.join(out, sub, f"{lang}.txt"), "w", encoding="utf-8") as f:
                f.write(text)
        text = "\n\n".join(read_paras(os.path.join(args.work, "corpus", f"{lang}.eval.txt")))
        ids = sp.encode(text)
        calib_text = "\n\n".join(read_paras(os.path.join(args.work, "corpus", f"{lang}.calib.txt")))
        calib_ids = sp.encode(calib_text)
        n = min(EVAL_MAX_WINDOWS, len(ids) // EVAL_SEQLEN)
        windows = torch.tensor(ids[: n * EVAL_SEQLEN], dtype=torch.int32).view(n, EVAL_SEQLEN)
        write_safetensors(
            os.path.join(out, f"eval-{lang}.safetensors"),
            {"input_ids": windows},
            {"lang": lang, "text": f"eval/{lang}.txt", "seqlen": EVAL_SEQLEN, "windows": n,
             "rule": "first windows of the eval text tokenized once without BOS, non-overlapping"},
        )
        nll, tb, per_window = eval_windows(model, windows, nbytes)
        total_nll += nll
        total_bytes += tb
        predicted = n * (EVAL_SEQLEN - 1)
        metrics_langs[lang] = {
            "bpb": round(nll / math.log(2) / tb, 6),
            "nll_nats": round(nll, 4),
            "mean_nll": round(nll / predicted, 6),
            "ppl": round(math.exp(nll / predicted), 4),
            "predicted_tokens": predicted,
            "target_bytes": tb,
            "windows": n,
            "window_nll_nats": [round(x, 5) for x in per_window],
            "eval_text_tokens": len(ids),
            "eval_text_bytes": len(text.encode("utf-8")),
            "eval_text": f"eval/{lang}.txt",
            "eval_text_ids_sha256": ids_sha256(ids),
            "calib_text": f"calib/{lang}.txt",
            "calib_text_tokens": len(calib_ids),
            "calib_text_ids_sha256": ids_sha256(calib_ids),
            "eval_windows_file": f"eval-{lang}.safetensors",
            "source": "udhr" if LANGS[lang][0] is None else "debian-handbook",
        }
        print(f"{lang}: bpb {metrics_langs[lang]['bpb']:.4f} ({n} windows)", flush=True)

    n_params = count_params(model)
    metrics = {
        "model": "polyprune-ml",
        "definition": {
            "text": "eval/<lang>.txt: the language's held-out eval paragraphs joined with \"\\n\\n\"",
            "tokenize": "tokenizer.json, once over the whole text, no BOS/EOS (add_special_tokens=false); "
                        "*_ids_sha256 = sha256 of all ids of the text as int32 little-endian (sentencepiece's ids)",
            "windows": f"non-overlapping windows of seqlen={EVAL_SEQLEN} tokens from the start of the token "
                       f"stream, the first min({EVAL_MAX_WINDOWS}, floor(tokens / {EVAL_SEQLEN})); stored as "
                       "input_ids I32 [windows, seqlen] in eval-<lang>.safetensors",
            "predict": "each window runs alone (positions 0..seqlen-1, causal, no BOS) and predicts its "
                       "tokens 1..seqlen-1 from their prefix",
            "nll": "natural-log negative log-likelihood, logits in float32, log-softmax in float64, summed",
            "target_bytes": "sum over predicted tokens of the token's UTF-8 length: byte-fallback <0xXX> = 1, "
                            "other pieces = UTF-8 length with U+2581 replaced by one space (U+2581 = 1 byte)",
            "bpb": "nll / ln(2) / target_bytes",
        },
        "seqlen": EVAL_SEQLEN,
        "languages": metrics_langs,
        "all_languages": {"bpb": round(total_nll / math.log(2) / total_bytes, 6), "target_bytes": total_bytes},
        "parameters": n_params,
        "parameters_without_embeddings": n_params - cfg.vocab_size * cfg.hidden_size,
        "training": ck["train"],
        "training_log": ck["log"],
    }
    with open(os.path.join(out, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=1, ensure_ascii=False)
        f.write("\n")

    hashes = {}
    for root, _, files in os.walk(out):
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), out).replace(os.sep, "/")
            if rel in ("hashes.json", "MODEL_CARD.md"):
                continue
            hashes[rel] = sha256(os.path.join(root, name))
    with open(os.path.join(out, "hashes.json"), "w") as f:
        json.dump(dict(sorted(hashes.items())), f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(r, n)) for r, _, fs in os.walk(out) for n in fs)
    print(f"exported {len(hashes)} files, {total / 1e6:.1f} MB, to {out}", flush=True)


if __name__ == "__main__":
    main()
