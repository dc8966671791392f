/**
 * The malformed-input corpus: generated from the stories260K fixture by code (no binary blobs in the
 * repository), into a fresh folder per test run. Each case is one thing a careful user can get
 * wrong, with the command that must refuse it (or warn) and what the message must name.
 *
 * Run by test/robustness/corpus.test.ts (CLI and engine API) and, for what a browser user can reach,
 * test/browser/refuse.browser.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors, serializeSafetensors, type TensorToWrite } from '../../src/io/safetensors';
import { pathSource } from '../../src/io/node';
import { recordHeader, RECORD_FORMAT } from '../../src/experiment/records';

const MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];

/** The fixture's tensors as F32 arrays (name -> shape, data), in file order. */
async function fixtureWeights(fixture: string): Promise<{ name: string; shape: number[]; data: Float32Array }[]> {
  const f = await openSafetensors(pathSource(join(fixture, 'model.safetensors')));
  try {
    const out = [];
    for (const [name, info] of f.tensors) out.push({ name, shape: [...info.shape], data: await f.readF32(name) });
    return out;
  } finally {
    await f.close();
  }
}

function writeSafetensors(path: string, tensors: TensorToWrite[]): void {
  const chunks = serializeSafetensors(tensors);
  writeFileSync(path, Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength))));
}

/** A copy of the fixture folder whose weights are `edit`ed (F32). */
async function modelVariant(fixture: string, dir: string, edit: (w: Map<string, Float32Array>) => void, extra: TensorToWrite[] = [], f64: string[] = []): Promise<string> {
  mkdirSync(dir, { recursive: true });
  for (const f of MODEL_FILES) copyFileSync(join(fixture, f), join(dir, f));
  const weights = await fixtureWeights(fixture);
  const byName = new Map(weights.map((w) => [w.name, w.data]));
  edit(byName);
  const asWritten = (w: { name: string; shape: number[]; data: Float32Array }): TensorToWrite =>
    f64.includes(w.name) ? { name: w.name, dtype: 'F64', shape: w.shape, data: Float64Array.from(w.data) } : { name: w.name, dtype: 'F32', shape: w.shape, data: w.data };
  writeSafetensors(join(dir, 'model.safetensors'), [...weights.map(asWritten), ...extra]);
  return dir;
}

function plainCopy(fixture: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const f of [...MODEL_FILES, 'model.safetensors']) copyFileSync(join(fixture, f), join(dir, f));
  return dir;
}

function windowsFile(path: string, ids: number[][], dtype: 'I32' | 'F32' = 'I32'): string {
  const n = ids.length;
  const s = ids[0].length;
  const flat = ids.flat();
  const data = dtype === 'I32' ? Int32Array.from(flat) : Float32Array.from(flat);
  writeSafetensors(path, [{ name: 'input_ids', dtype, shape: [n, s], data }]);
  return path;
}

export interface Corpus {
  dir: string;
  models: Record<
    | 'nanWeight'
    | 'infRow'
    | 'overflow'
    | 'f64'
    | 'nanEmbedding'
    | 'tokenizerTooBig'
    | 'tokenizerNegativeId'
    | 'tokenizerFractionalId'
    | 'tokenizerMergeOutside'
    | 'wordPieceBpeVocab'
    | 'layersMillion'
    | 'layersThousand'
    | 'fewerLayers'
    | 'extraTensor'
    | 'indexAndSingle'
    | 'symlinkLoop'
    | 'configLoop'
    | 'safetensorsIsFolder'
    | 'tokenizerFifo'
    | 'good',
    string
  >;
  texts: Record<'nul' | 'random' | 'png' | 'latin1' | 'short' | 'good' | 'fifo' | 'oneLine' | 'calibOverlap', string>;
  windows: Record<'outOfVocab' | 'negative' | 'float', string>;
  /** Task files: every choice encodes to no tokens. */
  tasks: Record<'zeroScored', string>;
  /** Result records: impossible values, terminal escapes in names, more cells than a record may hold. */
  records: Record<'pplNegative' | 'sparsityTooHigh' | 'escapes' | 'tooManyCells' | 'atCap', string>;
  /** A regular file, to put --out under. */
  regularFile: string;
}

/** A copy of the fixture whose tokenizer.json (parsed) is changed by `edit`. */
function tokenizerVariant(fixture: string, dir: string, edit: (tok: { model: { type: string; vocab: Record<string, number>; merges: unknown[]; unk_token?: string }; added_tokens: { id: number; content: string }[] }) => void): string {
  const d = plainCopy(fixture, dir);
  const tok = JSON.parse(readFileSync(join(d, 'tokenizer.json'), 'utf8'));
  edit(tok);
  writeFileSync(join(d, 'tokenizer.json'), JSON.stringify(tok));
  return d;
}

function configVariant(fixture: string, dir: string, edit: (cfg: Record<string, unknown>) => void): string {
  const d = plainCopy(fixture, dir);
  const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
  edit(cfg);
  writeFileSync(join(d, 'config.json'), JSON.stringify(cfg, null, 2));
  return d;
}

/** An experiment record of R rows x C columns (one seed, held-out text only), valid unless edited. */
function experimentRecord(R: number, C: number, label = (r: number) => `row ${r}`): Record<string, unknown> {
  const ref = { name: 'eval.txt', language: 'en', bytes: 100, sha256: 'a'.repeat(64) };
  return {
    ...recordHeader({ source: 'corpus', name: 'corpus-model', sha256: 'b'.repeat(64) }, 'corpus adapter', new Date(0)),
    format: RECORD_FORMAT,
    kind: 'experiment',
    spec: { method: 'wanda', sparsity: 0.5, nm: null, nsamples: 2, seqlen: 32, seeds: [0], evalSeqlen: 32, evalMaxWindows: null, taskLimit: null },
    matrices: [],
    rows: Array.from({ length: R }, (_, r) => ({ label: r === 0 ? 'dense' : label(r), sources: r === 0 ? [] : [ref], sparsity: r === 0 ? [] : [0.5], recon: r === 0 ? [] : [null] })),
    columns: Array.from({ length: C }, (_, k) => ({ language: `l${k}`, text: ref, tasks: [] })),
    cells: Array.from({ length: R }, (_, r) => Array.from({ length: C }, (_, k) => ({ ppl: [10 + r + k / 100], bpb: [1.5], acc: [], se: [] }))),
    iou: [],
    complete: true,
  };
}

/** Writes every case into `dir` (which must exist and be empty). */
export async function makeCorpus(fixture: string, dir: string): Promise<Corpus> {
  const m = (name: string): string => join(dir, 'models', name);
  mkdirSync(join(dir, 'models'), { recursive: true });
  mkdirSync(join(dir, 'texts'), { recursive: true });
  mkdirSync(join(dir, 'windows'), { recursive: true });

  const models = {
    good: plainCopy(fixture, m('good')),
    // one NaN in a decoder layer's matrix: row 7, column 3
    nanWeight: await modelVariant(fixture, m('nan-weight'), (w) => {
      w.get('model.layers.2.mlp.up_proj.weight')![7 * 64 + 3] = NaN;
    }),
    // finite weights so large that layer 1's MLP output overflows float32 (activations become Inf/NaN)
    overflow: await modelVariant(fixture, m('overflow'), (w) => {
      const d = w.get('model.layers.1.mlp.down_proj.weight')!;
      const scale = 3e38 / d.reduce((a, x) => Math.max(a, Math.abs(x)), 0); // largest weight 3e38, still finite
      for (let i = 0; i < d.length; i++) d[i] *= scale;
    }),
    // one F64 tensor (not quantized: just a dtype the engine does not take)
    f64: await modelVariant(fixture, m('f64'), () => undefined, [], ['model.layers.0.mlp.up_proj.weight']),
    // a row of +Inf
    infRow: await modelVariant(fixture, m('inf-row'), (w) => {
      w.get('model.layers.0.self_attn.q_proj.weight')!.fill(Infinity, 5 * 64, 6 * 64);
    }),
    // NaN embeddings of token 42 (the head is tied, so the logits would be NaN too)
    nanEmbedding: await modelVariant(fixture, m('nan-embedding'), (w) => {
      w.get('model.embed_tokens.weight')!.fill(NaN, 42 * 64, 43 * 64);
    }),
    // a tokenizer with ids past the model's vocab_size (512): an added token with id 700
    tokenizerTooBig: (() => {
      const d = plainCopy(fixture, m('tokenizer-too-big'));
      const tok = JSON.parse(readFileSync(join(d, 'tokenizer.json'), 'utf8'));
      tok.added_tokens = [...(tok.added_tokens ?? []), { id: 700, content: '<extra_700>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }];
      writeFileSync(join(d, 'tokenizer.json'), JSON.stringify(tok));
      return d;
    })(),
    // ids the tokenizer could emit that index nothing: an added token with id -1, a vocabulary piece
    // with id 1.5, a merge whose result is not in the vocabulary
    tokenizerNegativeId: tokenizerVariant(fixture, m('tokenizer-negative-id'), (t) => {
      t.added_tokens.push({ id: -1, content: '<minus_one>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true } as never);
    }),
    tokenizerFractionalId: tokenizerVariant(fixture, m('tokenizer-fractional-id'), (t) => {
      const piece = Object.keys(t.model.vocab).find((k) => t.model.vocab[k] === 300)!;
      t.model.vocab[piece] = 1.5;
    }),
    tokenizerMergeOutside: tokenizerVariant(fixture, m('tokenizer-merge-outside'), (t) => {
      t.model.merges.push(['▁q', 'zx']);
    }),
    // a WordPiece model given the fixture's BPE/SentencePiece vocabulary (no [UNK], pieces with ▁)
    wordPieceBpeVocab: tokenizerVariant(fixture, m('wordpiece-bpe-vocab'), (t) => {
      t.model = { type: 'WordPiece', vocab: t.model.vocab, unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100 } as never;
    }),
    // config.json claiming far more layers than the checkpoint: refused before anything is allocated
    layersMillion: configVariant(fixture, m('layers-million'), (c) => (c.num_hidden_layers = 1_000_000)),
    layersThousand: configVariant(fixture, m('layers-thousand'), (c) => (c.num_hidden_layers = 1000)),
    // tokenizer.json is a FIFO with no writer: reading it would block forever
    tokenizerFifo: (() => {
      const d = plainCopy(fixture, m('tokenizer-fifo'));
      rmSync(join(d, 'tokenizer.json'));
      execFileSync('mkfifo', [join(d, 'tokenizer.json')]);
      return d;
    })(),
    // config.json with 4 layers; the checkpoint has 5 (layer 4 unused): a warning
    fewerLayers: (() => {
      const d = plainCopy(fixture, m('fewer-layers'));
      const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
      cfg.num_hidden_layers = 4;
      writeFileSync(join(d, 'config.json'), JSON.stringify(cfg, null, 2));
      return d;
    })(),
    // an unknown extra tensor: a warning
    extraTensor: await modelVariant(fixture, m('extra-tensor'), () => undefined, [{ name: 'model.vision_tower.proj.weight', dtype: 'F32', shape: [2, 2], data: new Float32Array(4) }]),
    // an index and a single model.safetensors: the index wins, with a warning
    indexAndSingle: (() => {
      const d = plainCopy(fixture, m('index-and-single'));
      copyFileSync(join(d, 'model.safetensors'), join(d, 'model-00001-of-00001.safetensors'));
      return d;
    })(),
    symlinkLoop: (() => {
      const p = m('symlink-loop');
      symlinkSync(p, p);
      return p;
    })(),
    // config.json as a symbolic link to itself
    configLoop: (() => {
      const d = plainCopy(fixture, m('config-loop'));
      rmSync(join(d, 'config.json'));
      symlinkSync(join(d, 'config.json'), join(d, 'config.json'));
      return d;
    })(),
    safetensorsIsFolder: (() => {
      const d = m('safetensors-is-folder');
      mkdirSync(join(d, 'model.safetensors'), { recursive: true });
      for (const f of MODEL_FILES) copyFileSync(join(fixture, f), join(d, f));
      return d;
    })(),
  };
  // the index lists every tensor in the shard
  {
    const d = models.indexAndSingle;
    const names = (await fixtureWeights(fixture)).map((w) => w.name);
    writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: Object.fromEntries(names.map((n) => [n, 'model-00001-of-00001.safetensors'])) }));
  }

  const t = (name: string, bytes: Uint8Array | string): string => {
    const p = join(dir, 'texts', name);
    writeFileSync(p, bytes);
    return p;
  };
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 24;
  };
  const english = readFileSync(join(fixture, '..', '..', 'data', 'text', 'debian-handbook', 'en-US.txt'), 'utf8').slice(0, 20000);
  const texts = {
    good: t('good.txt', english),
    nul: t('nul.txt', new Uint8Array(4096)),
    random: t('random.txt', Uint8Array.from({ length: 4096 }, rand)),
    // the 8-byte PNG signature, an IHDR chunk and noise, renamed .txt
    png: t('image.txt', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, ...Array.from({ length: 600 }, rand)])),
    // "Größe, Übung, café" in Latin-1 (ö = 0xF6, not UTF-8)
    latin1: t('latin1.txt', Buffer.from('Die Größe der Übung im Café ist schön. '.repeat(50), 'latin1')),
    short: t('short.txt', 'Once upon a'),
    // a FIFO with no writer (as --text, --calib, --data)
    fifo: (() => {
      const p = join(dir, 'texts', 'fifo.txt');
      execFileSync('mkfifo', [p]);
      return p;
    })(),
    // 12 MB in one line: with --max-windows only the start is read and tokenized
    oneLine: t('one-line.txt', english.replace(/\s+/g, ' ').repeat(Math.ceil(12e6 / english.length)).slice(0, 12e6)),
    // ~200 tokens: enough for one window of 64 (wanda's sampler), not for 8 end to end
    calibOverlap: t('calib-overlap.txt', english.slice(0, 500)),
  };
  const w = (name: string, ids: number[][], dtype?: 'I32' | 'F32'): string => windowsFile(join(dir, 'windows', name), ids, dtype);
  const row = (k: number): number[] => Array.from({ length: 16 }, (_, i) => 10 + i + k);
  const windows = {
    outOfVocab: w('out-of-vocab.safetensors', [row(0), [...row(1).slice(0, 15), 9999]]),
    negative: w('negative.safetensors', [row(0), [-3, ...row(1).slice(1)]]),
    float: w('float.safetensors', [row(0), row(1)], 'F32'),
  };
  const regularFile = t('regular-file', 'not a folder');

  mkdirSync(join(dir, 'tasks'), { recursive: true });
  mkdirSync(join(dir, 'records'), { recursive: true });
  // UDHR layout with no delimiter and empty choices: every continuation is zero tokens
  const zeroScored = join(dir, 'tasks', 'zero-scored.json');
  writeFileSync(zeroScored, JSON.stringify({ language: 'en', mc: { target_delimiter: '', items: [{ id: 'item-1', context: 'Once upon a time', choices: ['', ''], label: 0 }, { id: 'item-2', context: 'The cat sat', choices: ['', ''], label: 1 }] } }));
  const rec = (name: string, value: unknown): string => {
    const p = join(dir, 'records', name);
    writeFileSync(p, JSON.stringify(value));
    return p;
  };
  const header = recordHeader({ source: 'corpus', name: 'corpus-model', sha256: 'b'.repeat(64) }, 'corpus adapter', new Date(0));
  const ref = { name: 'text.txt', language: 'en', bytes: 100, sha256: 'a'.repeat(64) };
  const tooHigh = experimentRecord(3, 2);
  (tooHigh.rows as { sparsity: number[] }[])[1].sparsity[0] = 7.5;
  const records = {
    pplNegative: rec('ppl-negative.json', { ...header, kind: 'perplexity', settings: { seqlen: 32, stride: null, maxWindows: null }, text: ref, result: { language: 'en', ppl: -5, meanNll: 1, bpb: 1, tokens: 10, bytes: 40, windows: 1 } }),
    sparsityTooHigh: rec('sparsity-too-high.json', tooHigh),
    // OSC (set the terminal title) and CSI (red) sequences in a row label and the model name
    escapes: rec('escapes.json', (() => {
      const e = experimentRecord(3, 2, (r) => `row ${r}\x1b]0;pwned\x07\x1b[31m`);
      (e.model as { name: string }).name = 'model\x1b[2J';
      return e;
    })()),
    tooManyCells: rec('too-many-cells.json', experimentRecord(101, 100)),
    atCap: rec('at-cap.json', experimentRecord(100, 100)),
  };
  return { dir, models, texts, windows, tasks: { zeroScored }, records, regularFile };
}
