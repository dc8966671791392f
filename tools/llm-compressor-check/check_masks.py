#!/usr/bin/env python3
"""Run a PolyPrune export's recipe.yaml through llm-compressor and compare the masks with PolyPrune's.

For a machine that has llm-compressor (written against 0.13.0 with compressed-tensors 0.18.0,
transformers and torch); it cannot run in PolyPrune's CI, which has none of them (docs/export.md,
"Checked on a machine with llm-compressor").

    python3 check_masks.py EXPORT BASE [--min-agreement 0.9998] [--shuffle] [--json]

EXPORT  a folder written by `polyprune prune` (or the page's HF export) with pruning.json,
        recipe.yaml, calibration.safetensors and the pruned model.safetensors (or shards).
BASE    the unpruned model: a Hub id or a local folder (pruning.json's model.source says which;
        for `local folder '<name>'` give that folder's path; its content hash is model.sha256).

It loads BASE with transformers (float32, on the CPU: llm-compressor's sequential pipeline moves one
decoder layer at a time to the GPU), calibrates with the exact windows of calibration.safetensors
(already tokenized, so no tokenizer pass), `shuffle_calibration_samples=False` unless --shuffle,
then for every pruned Linear compares `weight == 0` with the export's tensor of the same name and
prints the agreement per matrix and overall. Exit status 0 when the overall agreement is at least
--min-agreement, 1 when it is not, 2 on bad input.
"""
import argparse
import glob
import json
import os
import sys


def fail(msg):
    print(f"check_masks: {msg}", file=sys.stderr)
    sys.exit(2)


def load_export_tensors(export):
    from safetensors import safe_open

    files = sorted(glob.glob(os.path.join(export, "*.safetensors")))
    files = [f for f in files if os.path.basename(f) != "calibration.safetensors"]
    if not files:
        fail(f"{export} has no model safetensors")
    handles = {}
    for f in files:
        h = safe_open(f, framework="pt")
        for k in h.keys():
            handles[k] = h
    return handles


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("export")
    ap.add_argument("base")
    ap.add_argument("--min-agreement", type=float, default=1.0, help="overall mask agreement required (fraction, default 1.0)")
    ap.add_argument("--shuffle", action="store_true", help="keep llm-compressor's default shuffle_calibration_samples=True (to measure run-to-run spread)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    a = ap.parse_args()

    for f in ("pruning.json", "recipe.yaml", "calibration.safetensors"):
        if not os.path.isfile(os.path.join(a.export, f)):
            fail(f"{a.export} has no {f}; export a Wanda or SparseGPT pruning (OWL, wanda-lang and magnitude have no recipe: see pruning.json's llm_compressor.reason)")

    import torch
    from datasets import Dataset
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM
    import llmcompressor
    from llmcompressor import oneshot

    pruning = json.load(open(os.path.join(a.export, "pruning.json")))
    ids = load_file(os.path.join(a.export, "calibration.safetensors"))["input_ids"]  # (n, seqlen) int32
    n, seqlen = ids.shape
    ds = Dataset.from_dict({"input_ids": ids.long().tolist(), "attention_mask": [[1] * seqlen for _ in range(n)]})

    model = AutoModelForCausalLM.from_pretrained(a.base, dtype=torch.float32)  # on the CPU; the sequential pipeline onloads one layer at a time
    oneshot(
        model=model,
        dataset=ds,
        recipe=os.path.join(a.export, "recipe.yaml"),
        max_seq_length=seqlen,
        num_calibration_samples=n,
        shuffle_calibration_samples=a.shuffle,
    )

    theirs = dict(model.named_parameters())
    ours = load_export_tensors(a.export)
    rows = []
    same_total = 0
    numel_total = 0
    for m in pruning["per_matrix"]:
        name = m["tensor"]
        if name not in theirs:
            fail(f"llm-compressor's model has no parameter {name}")
        mine = ours[name].get_tensor(name).float() == 0
        other = theirs[name].detach().float().cpu() == 0
        same = int((mine == other).sum())
        rows.append({"tensor": name, "agreement": same / mine.numel(), "polyprune_zeros": int(mine.sum()), "llmcompressor_zeros": int(other.sum())})
        same_total += same
        numel_total += mine.numel()
    overall = same_total / numel_total
    versions = {"llmcompressor": llmcompressor.__version__, "torch": torch.__version__}
    try:
        import compressed_tensors

        versions["compressed_tensors"] = compressed_tensors.__version__
    except Exception:
        pass
    if a.json:
        print(json.dumps({"method": pruning["method"], "structure": pruning["structure"], "shuffle": a.shuffle, "overall": overall, "versions": versions, "per_matrix": rows}, indent=2))
    else:
        for r in rows:
            print(f"{r['tensor']:48s} {100 * r['agreement']:9.4f} %  zeros {r['polyprune_zeros']} / {r['llmcompressor_zeros']}")
        print(f"{pruning['method']} {pruning['structure']}: masks agree on {100 * overall:.4f} % of {numel_total} weights ({versions})")
    sys.exit(0 if overall >= a.min_agreement else 1)


if __name__ == "__main__":
    main()
