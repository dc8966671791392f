"""Train the byte-fallback BPE tokenizer (sentencepiece) and convert it to a Hugging Face tokenizer.json.

The sentencepiece model uses the identity normalizer with whitespace kept as is, so the whole
normalization is "prepend one U+2581 to the text, replace every space by U+2581", which the
tokenizer.json below states explicitly (Llama-style: no pre-tokenizer, BPE with byte_fallback).
Merges are ordered like the HF sentencepiece converter orders them: by the id (= score rank) of the
merged piece, so HF's rank-based BPE picks the same pair that sentencepiece's score-based BPE picks.
Newlines never occur in the training lines, so "\n" is always the byte token <0x0A>.
"""

import argparse
import json
import os

import sentencepiece as spm

from prepare_data import LANGS

# Share of every language's training lines given to the tokenizer trainer: all of them.
# Line order: languages in LANGS order, then file order (deterministic).


def train(work, vocab_size, threads):
    corpus = os.path.join(work, "corpus")
    all_lines = os.path.join(work, "tokenizer-train.txt")
    with open(all_lines, "w", encoding="utf-8") as out:
        for lang in LANGS:
            with open(os.path.join(corpus, f"{lang}.train.txt"), encoding="utf-8") as f:
                out.write(f.read())
    prefix = os.path.join(work, "spm")
    spm.SentencePieceTrainer.train(
        input=all_lines,
        model_prefix=prefix,
        model_type="bpe",
        vocab_size=vocab_size,
        character_coverage=0.9995,
        byte_fallback=True,
        normalization_rule_name="identity",
        add_dummy_prefix=True,
        remove_extra_whitespaces=False,
        split_digits=True,
        max_sentence_length=1 << 16,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=threads,
        minloglevel=1,
    )
    return prefix + ".model"


def to_hf(model_path):
    sp = spm.SentencePieceProcessor(model_file=model_path)
    n = sp.get_piece_size()
    vocab = {sp.id_to_piece(i): i for i in range(n)}
    assert len(vocab) == n, "duplicate pieces"
    merges = []
    for piece, pid in vocab.items():
        if sp.is_unknown(pid) or sp.is_control(pid) or sp.is_byte(pid) or len(piece) < 2:
            continue
        local = []
        for k in range(1, len(piece)):
            left, right = piece[:k], piece[k:]
            if left in vocab and right in vocab:
                local.append((vocab[left], vocab[right], left, right))
        local.sort()
        merges.extend((pid, a, b, left, right) for a, b, left, right in local)
    merges.sort()
    special = [
        {"id": i, "content": sp.id_to_piece(i), "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for i in (0, 1, 2)
    ]
    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": special,
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "Prepend", "prepend": "\u2581"},
                {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
            ],
        },
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [
                {"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}},
            ],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
        },
        "decoder": {
            "type": "Sequence",
            "decoders": [
                {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                {"type": "ByteFallback"},
                {"type": "Fuse"},
                {"type": "Strip", "content": " ", "start": 1, "stop": 0},
            ],
        },
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": "<unk>",
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": True,
            "byte_fallback": True,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": [[left, right] for _, _, _, left, right in merges],
        },
    }
    config = {
        "tokenizer_class": "LlamaTokenizer",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "add_bos_token": True,
        "add_eos_token": False,
        "legacy": True,
        "model_max_length": 512,
        "clean_up_tokenization_spaces": False,
    }
    return tok, config


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab-size", type=int, default=8192)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    model_path = train(args.work, args.vocab_size, args.threads)
    tok, config = to_hf(model_path)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(args.out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    print(f"tokenizer: {len(tok['model']['vocab'])} pieces, {len(tok['model']['merges'])} merges", flush=True)


if __name__ == "__main__":
    main()
