/**
 * The shipped default model (public/models/polyprune-ml, built by tools/train-default-model/run.sh;
 * CI never retrains): files present and unchanged, config and checkpoint consistent, and the
 * transformers.js tokenizer reproducing the stored eval windows (sentencepiece's ids) in every language.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parameterCount, parseModelConfig, ropeInvFreq, validateCheckpoint, type ModelConfig } from '../src/io/config';
import { dirFolder, pathSource } from '../src/io/node';
import { openCheckpoint, openSafetensors, type Checkpoint } from '../src/io/safetensors';
import { loadTokenizer } from '../src/io/tokenizer';
import { cpuTokenNll } from '../src/model/reference';

const DIR = resolve(process.cwd(), 'public/models/polyprune-ml');
const LANGS = ['ar', 'de', 'en', 'es', 'fr', 'it', 'ja', 'pt', 'ru', 'sw', 'zh'];
const BPB_BELOW_2_5 = ['ar', 'de', 'en', 'es', 'fr', 'ru', 'zh'];
const SEQLEN = 128;
const MAX_WINDOWS = 32;

interface LangMetrics {
  bpb: number;
  nll_nats: number;
  predicted_tokens: number;
  target_bytes: number;
  windows: number;
  window_nll_nats: number[];
  eval_text_tokens: number;
  eval_text_bytes: number;
  eval_text: string;
  eval_text_ids_sha256: string;
  calib_text: string;
  calib_text_tokens: number;
  calib_text_ids_sha256: string;
  eval_windows_file: string;
}
interface Metrics {
  seqlen: number;
  languages: Record<string, LangMetrics>;
  parameters: number;
}
interface Range2 {
  0: number;
  1: number;
}
interface SplitLang {
  'debian-handbook'?: { calibration: Range2[]; eval: Range2[]; train: Range2[] };
  udhr: { calibration_paragraphs?: number; eval_paragraphs?: number };
}

const readText = (rel: string): string => readFileSync(join(DIR, rel), 'utf8');
const readJson = <T>(rel: string): T => JSON.parse(readText(rel)) as T;

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(relative(DIR, p).split('\\').join('/'));
  }
  return out.sort();
}

/** sha256 of token ids as int32 little-endian bytes (how export.py hashes sentencepiece's ids). */
function idsSha256(ids: readonly number[]): string {
  const view = new DataView(new ArrayBuffer(ids.length * 4));
  ids.forEach((id, i) => view.setInt32(i * 4, id, true));
  return createHash('sha256').update(new Uint8Array(view.buffer)).digest('hex');
}

async function evalWindows(lang: string): Promise<{ shape: readonly number[]; ids: Int32Array }> {
  const f = await openSafetensors(pathSource(join(DIR, `eval-${lang}.safetensors`)));
  try {
    const info = f.tensors.get('input_ids');
    if (!info) throw new Error(`eval-${lang}.safetensors has no input_ids`);
    expect(info.dtype).toBe('I32');
    return { shape: info.shape, ids: await f.readI32('input_ids') };
  } finally {
    await f.close();
  }
}

describe('default model files (public/models/polyprune-ml)', () => {
  it('every shipped file is listed in hashes.json with its sha256', () => {
    const hashes = readJson<Record<string, string>>('hashes.json');
    const files = listFiles(DIR).filter((f) => f !== 'hashes.json' && f !== 'MODEL_CARD.md');
    expect(Object.keys(hashes).sort()).toEqual(files);
    for (const f of files) {
      const digest = createHash('sha256').update(readFileSync(join(DIR, f))).digest('hex');
      expect(digest, `${f} does not match hashes.json; re-run tools/train-default-model/run.sh`).toBe(hashes[f]);
    }
  });

  it('has the HF files, the card and per-language calibration/eval text, in under 30 MB', () => {
    const files = listFiles(DIR);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'split.json', 'metrics.json', 'MODEL_CARD.md']) {
      expect(files).toContain(f);
    }
    for (const lang of LANGS) {
      expect(files).toContain(`calib/${lang}.txt`);
      expect(files).toContain(`eval/${lang}.txt`);
      expect(files).toContain(`eval-${lang}.safetensors`);
    }
    const total = files.reduce((s, f) => s + statSync(join(DIR, f)).size, 0);
    expect(total).toBeLessThan(30e6);
    const card = readText('MODEL_CARD.md');
    expect(card).toContain('Calibration language x evaluation language (Wanda 50%)');
  });
});

describe('default model config and checkpoint', () => {
  let cfg: ModelConfig;
  let ckpt: Checkpoint;
  beforeAll(async () => {
    cfg = parseModelConfig(readJson<unknown>('config.json'), 'polyprune-ml/config.json');
    ckpt = await openCheckpoint(dirFolder(DIR));
  });
  afterAll(async () => {
    await ckpt?.close();
  });

  it('config.json is a Llama the engine parses', () => {
    expect(cfg.modelType).toBe('llama');
    expect(cfg.architecture).toBe('LlamaForCausalLM');
    expect(cfg.tieWordEmbeddings).toBe(true);
    expect(cfg.torchDtype).toBe('float32');
    expect(cfg.bosTokenId).toBe(1);
    expect(cfg.eosTokenId).toBe(2);
    expect(cfg.numHeads % cfg.numKvHeads).toBe(0);
    expect(cfg.headDim * cfg.numHeads).toBe(cfg.hiddenSize);
    const tok = readJson<{ model: { vocab: Record<string, number> } }>('tokenizer.json');
    expect(Object.keys(tok.model.vocab).length).toBe(cfg.vocabSize);
  });

  it('model.safetensors holds exactly the tensors config.json implies, in F32', () => {
    validateCheckpoint(cfg, ckpt);
    expect(ckpt.has('lm_head.weight')).toBe(false);
    let n = 0;
    for (const name of ckpt.names()) {
      const info = ckpt.info(name);
      expect(info.dtype).toBe('F32');
      n += info.shape.reduce((a, b) => a * b, 1);
    }
    expect(n).toBe(parameterCount(cfg));
    expect(n).toBe(readJson<Metrics>('metrics.json').parameters);
  });

  it('the TypeScript reference forward reproduces PyTorch\'s NLL of the first eval window (ar, en, zh)', async () => {
    const weights = new Map<string, Float32Array>();
    for (const name of ckpt.names()) weights.set(name, await ckpt.readF32(name));
    const cpu = { dims: cfg, invFreq: ropeInvFreq(cfg), weights };
    const metrics = readJson<Metrics>('metrics.json');
    for (const lang of ['ar', 'en', 'zh']) {
      const m = metrics.languages[lang];
      expect(m.window_nll_nats.length).toBe(m.windows);
      expect(m.window_nll_nats.reduce((a, b) => a + b, 0)).toBeCloseTo(m.nll_nats, 1);
      const { ids } = await evalWindows(lang);
      const nll = cpuTokenNll(cpu, ids.subarray(0, SEQLEN)).reduce((a, b) => a + b, 0);
      const want = m.window_nll_nats[0];
      expect(Math.abs(nll - want), `${lang} window 0: TS ${nll} vs PyTorch ${want}`).toBeLessThan(1e-4 * want);
    }
  });
});

describe('default model tokenizer and eval windows', () => {
  const metrics = readJson<Metrics>('metrics.json');
  const split = readJson<{ languages: Record<string, SplitLang> }>('split.json');
  const tokJson = readJson<object>('tokenizer.json');
  const tokConfig = readJson<object>('tokenizer_config.json');
  const hf = new Tokenizer(tokJson, tokConfig);
  const project = loadTokenizer(readText('tokenizer.json'), readText('tokenizer_config.json'));
  const byteLengths = project.tokenByteLengths();

  it('metrics.json covers every language, with held-out bpb below 2.5 where required', () => {
    expect(Object.keys(metrics.languages).sort()).toEqual([...LANGS].sort());
    expect(metrics.seqlen).toBe(SEQLEN);
    for (const lang of BPB_BELOW_2_5) expect(metrics.languages[lang].bpb, lang).toBeLessThan(2.5);
  });

  for (const lang of LANGS) {
    it(`${lang}: @huggingface/tokenizers encodes eval/${lang}.txt to the stored windows`, async () => {
      const text = readText(`eval/${lang}.txt`);
      const m = metrics.languages[lang];
      expect(m.eval_text).toBe(`eval/${lang}.txt`);
      expect(new TextEncoder().encode(text).length).toBe(m.eval_text_bytes);
      const ids = hf.encode(text, { add_special_tokens: false }).ids;
      expect(ids.length).toBe(m.eval_text_tokens);
      expect(idsSha256(ids), 'all eval ids equal sentencepiece\'s').toBe(m.eval_text_ids_sha256);
      expect(hf.decode(ids)).toBe(text);
      expect(Array.from(project.encode(text, { addSpecialTokens: false }))).toEqual(ids);

      const { shape, ids: windows } = await evalWindows(lang);
      const n = Math.min(MAX_WINDOWS, Math.floor(ids.length / SEQLEN));
      expect(n).toBeGreaterThan(0);
      expect(shape).toEqual([n, SEQLEN]);
      expect(m.windows).toBe(n);
      expect(Array.from(windows)).toEqual(ids.slice(0, n * SEQLEN));

      // target bytes of the bpb definition, recomputed from the windows
      let bytes = 0;
      for (let w = 0; w < n; w++) for (let t = 1; t < SEQLEN; t++) bytes += byteLengths[windows[w * SEQLEN + t]];
      expect(bytes).toBe(m.target_bytes);
      expect(m.predicted_tokens).toBe(n * (SEQLEN - 1));
    });

    it(`${lang}: calibration text tokenizes to sentencepiece's ids, is disjoint from eval text, matches split.json`, () => {
      const calibText = readText(`calib/${lang}.txt`);
      const calibIds = hf.encode(calibText, { add_special_tokens: false }).ids;
      expect(calibIds.length).toBe(metrics.languages[lang].calib_text_tokens);
      expect(idsSha256(calibIds)).toBe(metrics.languages[lang].calib_text_ids_sha256);
      const calib = calibText.split('\n\n');
      const evalParas = readText(`eval/${lang}.txt`).split('\n\n');
      const evalSet = new Set(evalParas);
      expect(calib.filter((p) => evalSet.has(p))).toEqual([]);
      const s = split.languages[lang];
      const count = (rs: Range2[]): number => rs.reduce((a, r) => a + r[1] - r[0], 0);
      if (s['debian-handbook']) {
        expect(calib.length).toBe(count(s['debian-handbook'].calibration));
        expect(evalParas.length).toBe(count(s['debian-handbook'].eval));
      } else {
        expect(calib.length).toBe(s.udhr.calibration_paragraphs);
        expect(evalParas.length).toBe(s.udhr.eval_paragraphs);
      }
    });
  }
});
