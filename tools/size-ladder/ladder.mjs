#!/usr/bin/env node
// Size ladder (issue 22): BF16 checkpoints with random weights in the exact configurations of real
// models, then per model the steps a user runs, each as one `polyprune` CLI command, measured.
//
//   node tools/size-ladder/ladder.mjs [--models smollm2-135m,qwen2.5-0.5b,...] [--work DIR] [--out results.json]
//        [--keep] [--timeout-s N] [--steps plan,load,ppl,wanda,sparsegpt,export]
//   node tools/size-ladder/ladder.mjs --page [--models ...]  # the same steps in the page (Chromium): page.mjs
//   node tools/size-ladder/ladder.mjs table results.json [...] # the markdown table of BENCHMARKS.md (one or several runs)
//
// Models (config.json as published; --models picks, default all but `tiny`):
//   tiny           a 2-layer Llama of 64 hidden, 1000 vocab (the CI test: test/tools/size-ladder.test.ts)
//   smollm2-135m   HuggingFaceTB/SmolLM2-135M, all 30 layers
//   qwen2.5-0.5b   Qwen/Qwen2.5-0.5B, all 24 layers
//   llama-3.2-1b   meta-llama/Llama-3.2-1B, all 16 layers
//   aya-23-8b      CohereForAI/aya-23-8B, 2 of 32 layers, full width and vocabulary
//   llama-3-8b     meta-llama/Meta-Llama-3-8B, 2 of 32 layers, full width and vocabulary
// Each folder: config.json, model.safetensors (BF16; weights uniform in [-0.03, 0.03) from one
// random pool of a prime length, norms 1, biases 0), tokenizer.json (a byte-level BPE with exactly
// vocab_size ids: 256 bytes, merges of letter n-grams, BOS/EOS as the last two ids),
// tokenizer_config.json. A 1-layer copy (same tensors) is written for the SparseGPT step.
//
// Steps (each a CLI command in a child process; seconds are its wall time):
//   plan      prune --plan --json (Wanda, 4 x 128): the plan's GPU estimate; a refusal ends the model
//   load      info (loads every weight on the GPU)
//   ppl       ppl --seqlen 128 --max-windows 2 (2 x 128 tokens)
//   wanda     prune --method wanda --sparsity 0.5 --nsamples 4 --seqlen 128 (all layers), with its export
//   sparsegpt prune --method sparsegpt --sparsity 0.5 --nsamples 4 --seqlen 128 of the 1-layer copy
//   export    export --format hf
// Per step: wall seconds, the engine's peak GPU bytes (POLYPRUNE_GPU_STATS_FILE), the host's peak
// RSS (VmHWM of the child, polled), exit status and the first line of a refusal.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pageLadder } from './page.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(REPO, 'bin/polyprune.mjs');
const TEXT = join(REPO, 'public/models/polyprune-ml/calib/en.txt');
const EVAL_TEXT = join(REPO, 'public/models/polyprune-ml/eval/en.txt');

const llama = (o) => ({ architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_act: 'silu', torch_dtype: 'bfloat16', ...o });
export const MODELS = {
  tiny: { layers: 2, config: llama({ hidden_size: 64, intermediate_size: 160, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 1000, max_position_embeddings: 512, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true }) },
  'smollm2-135m': { source: 'HuggingFaceTB/SmolLM2-135M', config: llama({ hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, head_dim: 64, vocab_size: 49152, max_position_embeddings: 8192, rms_norm_eps: 1e-5, rope_theta: 100000, tie_word_embeddings: true }) },
  'qwen2.5-0.5b': { source: 'Qwen/Qwen2.5-0.5B', config: { architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_act: 'silu', torch_dtype: 'bfloat16', hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: true, use_sliding_window: false, sliding_window: 32768 } },
  'llama-3.2-1b': { source: 'meta-llama/Llama-3.2-1B', config: llama({ hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, vocab_size: 128256, max_position_embeddings: 131072, rms_norm_eps: 1e-5, rope_theta: 500000, rope_scaling: { factor: 32, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: 'llama3' }, tie_word_embeddings: true }) },
  'aya-23-8b': { source: 'CohereForAI/aya-23-8B', layers: 2, config: { architectures: ['CohereForCausalLM'], model_type: 'cohere', hidden_act: 'silu', torch_dtype: 'bfloat16', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 256000, max_position_embeddings: 8192, layer_norm_eps: 1e-5, logit_scale: 0.0625, rope_theta: 10000, use_qk_norm: false, tie_word_embeddings: true } },
  'llama-3-8b': { source: 'meta-llama/Meta-Llama-3-8B', layers: 2, config: llama({ hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 128256, max_position_embeddings: 8192, rms_norm_eps: 1e-5, rope_theta: 500000, tie_word_embeddings: false }) },
};

// ------------------------------------------------------------------ checkpoint

/** [name, shape, fill] of every tensor, as transformers names them. */
function tensorsOf(cfg) {
  const C = cfg.hidden_size, F = cfg.intermediate_size, H = cfg.num_attention_heads, Hkv = cfg.num_key_value_heads ?? H;
  const D = cfg.head_dim ?? C / H, V = cfg.vocab_size, cohere = cfg.model_type === 'cohere', qwen = cfg.model_type === 'qwen2';
  const out = [['model.embed_tokens.weight', [V, C], 'w'], ['model.norm.weight', [C], 'one']];
  if (!cfg.tie_word_embeddings) out.push(['lm_head.weight', [V, C], 'w']);
  for (let i = 0; i < cfg.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    out.push([`${p}input_layernorm.weight`, [C], 'one']);
    if (!cohere) out.push([`${p}post_attention_layernorm.weight`, [C], 'one']);
    out.push([`${p}self_attn.q_proj.weight`, [H * D, C], 'w'], [`${p}self_attn.k_proj.weight`, [Hkv * D, C], 'w'], [`${p}self_attn.v_proj.weight`, [Hkv * D, C], 'w'], [`${p}self_attn.o_proj.weight`, [C, H * D], 'w']);
    if (qwen) out.push([`${p}self_attn.q_proj.bias`, [H * D], 'zero'], [`${p}self_attn.k_proj.bias`, [Hkv * D], 'zero'], [`${p}self_attn.v_proj.bias`, [Hkv * D], 'zero']);
    out.push([`${p}mlp.gate_proj.weight`, [F, C], 'w'], [`${p}mlp.up_proj.weight`, [F, C], 'w'], [`${p}mlp.down_proj.weight`, [C, F], 'w']);
  }
  return out;
}

const POOL = 1_000_003; // prime: rows of any width do not repeat
function bf16Pool(seed) {
  const pool = new Uint16Array(POOL);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < POOL; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    f[0] = ((s / 4294967296) * 2 - 1) * 0.03;
    pool[i] = (u[0] + 0x7fff + ((u[0] >>> 16) & 1)) >>> 16;
  }
  return pool;
}

/** Writes config.json and model.safetensors (BF16) of `cfg` into dir, streamed tensor by tensor. */
function writeCheckpoint(dir, cfg, pool) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  const tensors = tensorsOf(cfg);
  const header = {};
  let off = 0;
  for (const [name, shape] of tensors) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    header[name] = { dtype: 'BF16', shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let h = Buffer.from(JSON.stringify(header));
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const fd = openSync(join(dir, 'model.safetensors'), 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeSync(fd, len);
  writeSync(fd, h);
  const CHUNK = 1 << 23; // elements per write (16 MiB)
  const buf = new Uint16Array(CHUNK);
  tensors.forEach(([, shape, fill], t) => {
    let n = shape.reduce((a, b) => a * b, 1);
    let at = (t * 7919) % POOL;
    while (n > 0) {
      const k = Math.min(n, CHUNK);
      if (fill === 'w') {
        for (let i = 0; i < k; i++) {
          buf[i] = pool[at];
          if (++at === POOL) at = 0;
        }
      } else buf.fill(fill === 'one' ? 0x3f80 : 0, 0, k);
      writeSync(fd, new Uint8Array(buf.buffer, 0, k * 2));
      n -= k;
    }
  });
  closeSync(fd);
  return 8 + h.length + off;
}

/** GPT-2's byte -> printable character map of byte-level BPE. */
function byteChars() {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const map = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) map[b] = bs.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
  return map;
}

/** A byte-level BPE tokenizer.json with exactly V ids: 256 bytes, letter n-gram merges, then BOS/EOS. */
export function writeTokenizer(dir, V) {
  const bytes = byteChars();
  const vocab = new Map();
  bytes.forEach((c, i) => vocab.set(c, i));
  const merges = [];
  const want = V - 2;
  const letters = [bytes[32], ...'etaoinshrdlcumwfgypbvkjxqz'];
  let level = letters.slice(); // tokens of the previous length, in order
  while (vocab.size < want) {
    const next = [];
    outer: for (const a of level) {
      for (const b of letters) {
        if (b === bytes[32]) continue; // the space (Ġ) only starts a word
        if (vocab.size >= want) break outer;
        const t = a + b;
        if (vocab.has(t)) continue;
        vocab.set(t, vocab.size);
        merges.push(`${a} ${b}`);
        next.push(t);
      }
    }
    if (next.length === 0) break;
    level = next;
  }
  while (vocab.size < want) vocab.set(`<|unused_${vocab.size}|>`, vocab.size);
  const special = (content, i) => ({ id: i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const bl = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tok = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special('<|begin_of_text|>', V - 2), special('<|end_of_text|>', V - 1)],
    normalizer: null, pre_tokenizer: bl, post_processor: { ...bl, trim_offsets: false }, decoder: bl,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: Object.fromEntries(vocab), merges },
  };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tok));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<|begin_of_text|>', eos_token: '<|end_of_text|>', add_bos_token: false, tokenizer_class: 'PreTrainedTokenizerFast' }));
}

function makeModel(name, work, oneLayer = true) {
  const m = MODELS[name];
  const cfg = { ...m.config, num_hidden_layers: m.layers ?? m.config.num_hidden_layers, bos_token_id: m.config.vocab_size - 2, eos_token_id: m.config.vocab_size - 1 };
  const dir = join(work, name);
  const one = join(work, `${name}-1layer`);
  const pool = bf16Pool(1);
  const bytes = writeCheckpoint(dir, cfg, pool);
  writeTokenizer(dir, cfg.vocab_size);
  if (oneLayer) {
    writeCheckpoint(one, { ...cfg, num_hidden_layers: 1 }, pool);
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) writeFileSync(join(one, f), readFileSync(join(dir, f)));
  }
  const params = tensorsOf(cfg).reduce((s, [, shape]) => s + shape.reduce((a, b) => a * b, 1), 0);
  return { dir, one, bytes, params, cfg };
}

// ------------------------------------------------------------------ steps

/**
 * CPU seconds (user + system) of this process's waited-for children so far (/proc/self/stat cutime +
 * cstime): the difference around one child is that child's CPU time, all its threads (lavapipe's
 * included), exact once it has been reaped. null where /proc is missing.
 */
function childCpuSeconds() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    return (Number(f[13]) + Number(f[14])) / 100; // USER_HZ: 100 on Linux
  } catch {
    return null;
  }
}

/** The last `n` characters of a command's output, for a failed step's record. */
const tail = (s, n) => (s.length > n ? `…${s.slice(-n)}` : s);

/** One CLI command: wall and CPU seconds, exit code, stdout, stderr, peak RSS (VmHWM), the engine's GPU stats. */
function runCli(args, { timeoutS, statsFile }) {
  return new Promise((done) => {
    const t0 = performance.now();
    const cpu0 = childCpuSeconds();
    rmSync(statsFile, { force: true });
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, POLYPRUNE_GPU_STATS_FILE: statsFile } });
    let stdout = '';
    let stderr = '';
    let hwm = 0;
    p.on('error', (e) => (stderr += `\nspawn failed: ${e.message}\n`)); // 'close' follows
    p.stdout.on('data', (b) => (stdout += b));
    // progress lines (layer, matrix) with the seconds they came at: a step stopped midway says how far it got
    const progress = [];
    let partial = '';
    p.stderr.on('data', (b) => {
      stderr += b;
      const lines = (partial + b).split('\n');
      partial = lines.pop();
      for (const l of lines) if (/^(layer|prune) /.test(l)) progress.push([+((performance.now() - t0) / 1000).toFixed(1), l.trim()]);
      if (progress.length > 400) progress.splice(0, progress.length - 200);
    });
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]) * 1024);
      } catch {
        /* gone */
      }
    }, 100);
    let timedOut = false;
    const kill = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, timeoutS * 1000);
    p.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(kill);
      let gpu = null;
      try {
        gpu = JSON.parse(readFileSync(statsFile, 'utf8'));
      } catch {
        /* no device was made, or killed */
      }
      const cpu1 = childCpuSeconds();
      done({ seconds: (performance.now() - t0) / 1000, cpuSeconds: cpu0 == null || cpu1 == null ? null : cpu1 - cpu0, code: code ?? -1, signal, timedOut, args, progress, stdout, stderr, hostPeakBytes: hwm, gpu });
    });
  });
}

function firstError(r) {
  const line = r.stderr.split('\n').find((l) => l.startsWith('polyprune: ') && !l.startsWith('polyprune: warning'));
  // no 'polyprune:' line: the last thing it said (a crash, an uncaught error), so a failure is never opaque
  const last = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('Warning:')).at(-1);
  const out = r.stdout.trim().split('\n').at(-1);
  const said = last ? `: ${last.slice(0, 200)}` : out ? `, nothing on stderr; stdout: ${out.slice(0, 200)}` : ', nothing on stderr or stdout';
  return line ?? (r.signal ? `killed (${r.signal}${r.timedOut ? ', timeout' : ''})` : `exit ${r.code}${said}`);
}

const STEPS = ['plan', 'load', 'ppl', 'wanda', 'sparsegpt', 'export'];
/** Steps run only when named in --steps: `onnx`, the export as ONNX fp16 (transformers.js layout), not in the table. */
const EXTRA_STEPS = ['onnx'];

async function ladder(names, work, timeoutS, steps = STEPS, onStep = () => {}, page = false) {
  const results = [];
  for (const name of names) {
    const t0 = performance.now();
    const made = makeModel(name, work, steps.includes('sparsegpt'));
    const row = { model: name, source: MODELS[name].source ?? 'synthetic', layers: made.cfg.num_hidden_layers, params: made.params, checkpointBytes: made.bytes, writeSeconds: (performance.now() - t0) / 1000, steps: {} };
    results.push(row);
    if (page) {
      row.runtime = 'chromium';
      // every finished step is saved: a run stopped midway keeps what finished
      await pageLadder(REPO, made, name, steps, readFileSync(TEXT, 'utf8'), readFileSync(EVAL_TEXT, 'utf8'), timeoutS, row, () => onStep(row));
      onStep(row);
      continue;
    }
    const statsFile = join(work, 'gpu-stats.json');
    const calib = ['--calib', TEXT, '--nsamples', '4', '--seqlen', '128'];
    const step = async (key, args, model = made.dir) => {
      if (!steps.includes(key)) {
        row.steps[key] = { skipped: true };
        return { r: null, s: row.steps[key] };
      }
      process.stderr.write(`[ladder] ${name}: ${key}\n`);
      const r = await runCli(args.map((a) => (a === '$M' ? model : a)), { timeoutS, statsFile });
      const s = { seconds: +r.seconds.toFixed(2), cpuSeconds: r.cpuSeconds == null ? null : +r.cpuSeconds.toFixed(2), ok: r.code === 0, hostPeakBytes: r.hostPeakBytes, gpuPeakBytes: r.gpu?.peakBytes ?? null, submits: r.gpu?.submits?.submits ?? null };
      if (r.progress.length) s.progress = r.progress.slice(-40);
      if (r.code !== 0) {
        // the whole story of a failure is kept, not only its first line: the command, its exit and both outputs' tails
        s.error = firstError(r);
        Object.assign(s, { command: ['polyprune', ...r.args].join(' '), exitCode: r.code, signal: r.signal, stderrTail: tail(r.stderr, 4000), stdoutTail: tail(r.stdout, 1000) });
        process.stderr.write(`[ladder] ${name}: ${key} failed (${s.error})\n${s.stderrTail}\n`);
      }
      row.steps[key] = s;
      onStep(row);
      return { r, s };
    };
    const plan = await step('plan', ['prune', '--model', '$M', '--method', 'wanda', '--sparsity', '0.5', ...calib, '--plan', '--json']);
    if (plan.s.ok) {
      const p = JSON.parse(plan.r.stdout);
      row.plan = { gpuPeakBytes: p.gpuPeakBytes, weightBytes: p.weightBytes, f32WeightBytes: p.f32WeightBytes, packed: p.packed, resident: p.resident };
    } else {
      row.refused = plan.s.error;
      continue;
    }
    const spPlan = !steps.includes('sparsegpt') ? { code: 1 } : await runCli(['prune', '--model', made.one, '--method', 'sparsegpt', '--sparsity', '0.5', ...calib, '--plan', '--json'], { timeoutS, statsFile });
    if (spPlan.code === 0) row.planSparsegpt = { gpuPeakBytes: JSON.parse(spPlan.stdout).gpuPeakBytes };
    await step('load', ['info', '--model', '$M', '--json']);
    const ppl = await step('ppl', ['ppl', '--model', '$M', '--text', EVAL_TEXT, '--seqlen', '128', '--max-windows', '2', '--json']);
    if (ppl.s.ok) row.ppl = JSON.parse(ppl.r.stdout).ppl ?? null;
    const out = (k) => {
      const d = join(work, `${name}-${k}`);
      rmSync(d, { recursive: true, force: true });
      return d;
    };
    // the CLI prints its progress (layer, matrix) on stderr, --json or not: the record keeps it with its times
    const w = await step('wanda', ['prune', '--model', '$M', '--method', 'wanda', '--sparsity', '0.5', ...calib, '--out', out('wanda'), '--json']);
    if (w.s.ok) w.s.pruneSeconds = +(JSON.parse(w.r.stdout).timings.totalMs / 1000).toFixed(2);
    const sg = await step('sparsegpt', ['prune', '--model', '$M', '--method', 'sparsegpt', '--sparsity', '0.5', ...calib, '--out', out('sparsegpt'), '--json'], made.one);
    if (sg.s.ok) sg.s.pruneSeconds = +(JSON.parse(sg.r.stdout).timings.totalMs / 1000).toFixed(2);
    await step('export', ['export', '--model', '$M', '--format', 'hf', '--out', out('export'), '--json']);
    await step('onnx', ['export', '--model', '$M', '--format', 'onnx', '--onnx-variants', 'fp16', '--out', out('onnx'), '--json']);
    for (const k of ['wanda', 'sparsegpt', 'export', 'onnx']) rmSync(join(work, `${name}-${k}`), { recursive: true, force: true });
  }
  return results;
}

// ------------------------------------------------------------------ table

/** a / b to two places, '–' where either is missing: the engine's peak against the plan's estimate. */
const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : '–');
const gb = (n) => (n == null ? '–' : n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(0)} MiB`);
/** Wall seconds (the prune's own in brackets) and, where recorded, the command's CPU seconds: cpu/wall near 2 is both cores. */
const sec = (s) => (s == null || s.skipped ? 'not run' : s.ok ? `${s.seconds.toFixed(1)}${s.pruneSeconds != null ? ` (${s.pruneSeconds.toFixed(1)})` : ''}${s.cpuSeconds != null ? ` cpu ${s.cpuSeconds.toFixed(0)}` : ''}` : 'failed');

/**
 * The markdown table of page rows (Chromium): seconds, the engine's GPU bytes (a prune's peak, as the
 * worker engine reports it: what the engine held when the prune began included) against the plans,
 * renderer and GPU process peaks.
 */
export function pageTable(results) {
  const lines = [
    '| model (layers) | params | checkpoint | load s | ppl 2x128 s | Wanda 4x128 s (prune) | SparseGPT 1 layer s (prune) | export s | engine peak GPU up to Wanda (B/param) | Wanda plan estimate | engine/plan: Wanda; SparseGPT | renderer peak RSS (/ckpt) | GPU process peak RSS (/ckpt) | refused or failed |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const s = r.steps;
    const gpu = s.wanda?.gpuPeakBytes ?? null;
    const est = r.plan?.gpuPeakBytes ?? null;
    const peak = (k) => Math.max(0, ...Object.values(s).map((x) => x[k] ?? 0)) || null;
    const rel = (b) => (b ? ` (${(b / r.checkpointBytes).toFixed(2)})` : '');
    const fails = [r.refused, ...Object.entries(s).filter(([, x]) => !x.ok && !x.skipped).map(([k, x]) => `${k}: ${x.error}`)].filter(Boolean);
    lines.push(`| ${r.model} (${r.layers}) | ${(r.params / 1e6).toFixed(0)}M | ${gb(r.checkpointBytes)} | ${sec(s.load)} | ${sec(s.ppl)} | ${sec(s.wanda)} | ${sec(s.sparsegpt)} | ${sec(s.export)} | ${gb(gpu)}${gpu ? ` (${(gpu / r.params).toFixed(2)})` : ''} | ${gb(est)} | ${ratio(gpu, est)}; ${ratio(s.sparsegpt?.gpuPeakBytes, r.planSparsegpt?.gpuPeakBytes)} | ${gb(peak('rendererPeakBytes'))}${rel(peak('rendererPeakBytes'))} | ${gb(peak('gpuProcessPeakBytes'))}${rel(peak('gpuProcessPeakBytes'))} | ${fails.length ? fails.join('; ').replace(/\|/g, '/') : 'no'} |`);
  }
  return lines.join('\n');
}

/** The markdown table (and the per-parameter ratios) of a results file; page rows get their own table. */
export function table(results) {
  const page = results.filter((r) => r.runtime === 'chromium');
  const cli = results.filter((r) => r.runtime !== 'chromium');
  if (page.length) return [cli.length ? table(cli) : '', pageTable(page)].filter(Boolean).join('\n\n');
  const lines = [
    '| model (layers) | params | checkpoint | load s | ppl 2x128 s | Wanda 4x128 s (prune) | SparseGPT 1 layer s (prune) | export s | engine peak GPU: load (B/param) | Wanda (B/param) | Wanda plan estimate | engine/plan: Wanda; SparseGPT | host peak RSS: load (/ckpt) | any step (/ckpt) | refused |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const s = r.steps;
    const gpu = s.wanda?.gpuPeakBytes ?? null;
    const est = r.plan?.gpuPeakBytes ?? null;
    const host = Math.max(...Object.values(s).map((x) => x.hostPeakBytes ?? 0));
    const fails = [r.refused, ...Object.entries(s).filter(([, x]) => !x.ok && !x.skipped).map(([k, x]) => `${k}: ${x.error}`)].filter(Boolean);
    const loadGpu = s.load?.gpuPeakBytes ?? null;
    const loadHost = s.load?.hostPeakBytes || null;
    const per = (b) => (b ? ` (${(b / r.params).toFixed(2)})` : '');
    const rel = (b) => (b ? ` (${(b / r.checkpointBytes).toFixed(2)})` : '');
    lines.push(`| ${r.model} (${r.layers}) | ${(r.params / 1e6).toFixed(0)}M | ${gb(r.checkpointBytes)} | ${sec(s.load)} | ${sec(s.ppl)} | ${sec(s.wanda)} | ${sec(s.sparsegpt)} | ${sec(s.export)} | ${gb(loadGpu)}${per(loadGpu)} | ${gb(gpu)}${per(gpu)} | ${gb(est)} | ${ratio(gpu, est)}; ${ratio(s.sparsegpt?.gpuPeakBytes, r.planSparsegpt?.gpuPeakBytes)} | ${gb(loadHost)}${rel(loadHost)} | ${gb(host || null)}${rel(host)} | ${fails.length ? fails.join('; ').replace(/\|/g, '/') : 'no'} |`);
  }
  return lines.join('\n');
}

// ------------------------------------------------------------------ main

const USAGE = `usage: node tools/size-ladder/ladder.mjs [--models a,b] [--steps plan,load,ppl,wanda,sparsegpt,export[,onnx]]
         [--work DIR] [--out results.json] [--timeout-s N] [--keep] [--page]
       node tools/size-ladder/ladder.mjs table results.json [more.json ...]
(tools/size-ladder/README.md)`;

async function main(argv) {
  if (argv[0] === 'table') {
    // several results files (runs of one model or one step at a time) make one table, rows in order
    if (!argv[1]) throw new Error(`table needs a results file\n${USAGE}`);
    const rows = argv.slice(1).flatMap((f) => {
      let rs;
      try {
        rs = JSON.parse(readFileSync(f, 'utf8'));
      } catch (e) {
        throw new Error(`cannot read results file ${f}: ${e.message}`, { cause: e });
      }
      if (!Array.isArray(rs) || rs.some((r) => typeof r?.model !== 'string' || typeof r?.steps !== 'object')) throw new Error(`${f} is not a results file of this tool (a list of rows with model and steps)`);
      return rs;
    });
    console.log(table(rows));
    return;
  }
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { models: { type: 'string' }, steps: { type: 'string' }, work: { type: 'string' }, out: { type: 'string' }, 'timeout-s': { type: 'string' }, keep: { type: 'boolean' }, page: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    throw new Error(`${e.message}\n${USAGE}`, { cause: e });
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const opt = (k, d) => values[k.slice(2)] ?? d;
  const timeoutS = Number(opt('--timeout-s', 3600));
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new Error(`--timeout-s must be a positive number of seconds, not '${values['timeout-s']}'`);
  const names = opt('--models', Object.keys(MODELS).filter((n) => n !== 'tiny').join(',')).split(',');
  for (const n of names) if (!MODELS[n]) throw new Error(`Unknown model '${n}'. Known: ${Object.keys(MODELS).join(', ')}`);
  if (values.page ? !existsSync(join(REPO, 'dist/index.html')) : !existsSync(BIN) || !existsSync(join(REPO, 'dist-cli'))) throw new Error(values.page ? 'Build the app first: npm run build' : 'Build the CLI first: npm run build:cli');
  const work = resolve(opt('--work', join(REPO, '.size-ladder')));
  const outFile = opt('--out', join(work, 'results.json'));
  mkdirSync(work, { recursive: true });
  const results = [];
  for (const n of names) {
    const steps = opt('--steps', STEPS.join(',')).split(',');
    for (const k of steps) if (![...STEPS, ...EXTRA_STEPS].includes(k)) throw new Error(`Unknown step '${k}'. Steps: ${[...STEPS, ...EXTRA_STEPS].join(', ')}`);
    if (!steps.includes('plan')) throw new Error('--steps must include plan (it is what the others are measured against)');
    // written after every step: a run stopped midway keeps what finished
    const save = (row) => writeFileSync(outFile, JSON.stringify([...results, row], null, 2));
    const [r] = await ladder([n], work, timeoutS, steps, save, values.page === true);
    results.push(r);
    writeFileSync(outFile, JSON.stringify(results, null, 2));
    if (!values.keep) for (const d of [n, `${n}-1layer`]) rmSync(join(work, d), { recursive: true, force: true });
  }
  console.log(table(results));
  process.stderr.write(`[ladder] results in ${outFile}; sizes: ${statSync(outFile).size} bytes\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`ladder: ${e.message}`);
    process.exit(1);
  });
}
