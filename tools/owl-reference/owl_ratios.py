#!/usr/bin/env python3
"""OWL layer-wise sparsity, float64 reference (numpy only), written from the formula.

Outlier-weighed layer-wise sparsity (Yin et al. 2023; luuyin/OWL lib/prune_all.py
`prune_wanda_outlier` with `check_outlier_mean`):
  per decoder layer l, A = |W| * sqrt(scaler_row) of all its linears (Wanda scores with the
  DENSE model's input statistic), D_l = 100 * #{A > M * mean(A)} / |A|;
  D' = (D - min D) / (max D - min D) * 2 * lambda;  sparsity_l = 1 - (D'_l - mean(D') + 1 - target).

Usage: owl_ratios.py <model.safetensors> <stats.safetensors> <M> <lambda> <target>
  stats.safetensors holds `scaler_row.<layer>.<linear>` F32 [in_features] (e.g. the stories260K
  fixture's dense.safetensors). Prints JSON {"outlier_ratio": [...], "sparsity": [...]}.
Independent of PolyPrune's TypeScript: the safetensors reader of tools/reference-common, float64 throughout.
"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reference-common"))
from refcommon import LINEARS, read_safetensors  # noqa: E402


def main():
    model_path, stats_path, m, lam, target = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
    weights = read_safetensors(model_path)
    stats = read_safetensors(stats_path)
    layers = sorted({int(k.split(".")[2]) for k in weights if k.startswith("model.layers.")})
    ratios = []
    for i in layers:
        scores = []
        for name in LINEARS:
            w = weights[f"model.layers.{i}.{name}.weight"].astype(np.float64)
            s = stats[f"scaler_row.{i}.{name}"].astype(np.float64)
            scores.append((np.abs(w) * np.sqrt(s)[None, :]).ravel())
        a = np.concatenate(scores)
        ratios.append(100.0 * float(np.count_nonzero(a > a.mean() * m)) / a.size)
    d = np.array(ratios, dtype=np.float64)
    if d.max() > d.min():
        d = (d - d.min()) * (1.0 / (d.max() - d.min()) * lam * 2)
        sparsity = 1.0 - (d - d.mean() + (1.0 - target))
    else:
        sparsity = np.full_like(d, target)
    print(json.dumps({"outlier_ratio": ratios, "sparsity": sparsity.tolist()}))


if __name__ == "__main__":
    main()
