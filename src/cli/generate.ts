/**
 * `polyprune generate`: continue a prompt with PolyPrune's engine (K/V cache, WebGPU/Dawn), or with
 * the model's ONNX export in @huggingface/transformers on onnxruntime-node (`--runtime onnx`: the
 * model is exported to a temporary folder first and removed afterwards). docs/generate.md.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { PolyPruneError, throwIfAborted } from '../common/errors';
import { PyRandom, logSoftmax, pickToken, type GenerateResult, type ModelSummary, type SamplingSettings } from '../engine';
import type { LocalEngine } from '../engine/local';
import { cliSignal } from './cancel';
import { exportToFolder } from './export';
import { createEngine, modelSpec, parseIntArg, seedArg } from './main';
import { progressPrinter } from './progress';

interface GenerateOptions {
  model: string;
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  repetitionPenalty: number;
  runtime: string;
  json?: boolean;
}

export function parseNumber(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} must be a number (got '${v}').`);
    return n;
  };
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description("Continue a prompt: greedy (default) or seeded sampling, with PolyPrune's engine or the model's ONNX export in transformers.js (docs/generate.md).")
    .requiredOption('-m, --model <dir|url>', 'model folder, URL or Hub id (dense or a PolyPrune export)')
    .option('-p, --prompt <text>', "text to continue; '' = the BOS token alone", '')
    .option('-n, --max-new-tokens <n>', 'new tokens at most (stops earlier at EOS)', parseIntArg('--max-new-tokens', 0), 32)
    .option('--temperature <t>', '0 = greedy; above 0 samples (at most 100)', parseNumber('--temperature'), 0)
    .option('--top-k <k>', 'sampling: keep the k most likely tokens (0 = all)', parseIntArg('--top-k', 0), 0)
    .option('--top-p <p>', 'sampling: nucleus, keep the most likely tokens until their probability reaches p (1 = all)', parseNumber('--top-p'), 1)
    .option('--repetition-penalty <r>', "transformers' repetition penalty, 1 = off (at most 10)", parseNumber('--repetition-penalty'), 1)
    .option('--seed <n>', 'sampling seed (the same seed gives the same text)', seedArg('--seed'), 0)
    .option('--runtime <engine|onnx>', "engine: PolyPrune's WebGPU engine with the K/V cache; onnx: the model's ONNX export in @huggingface/transformers (onnxruntime-node)", 'engine')
    .option('--json', 'print JSON: prompt ids, tokens, text, per-token log-probabilities, settings')
    .action(async (o: GenerateOptions) => {
      if (o.runtime !== 'engine' && o.runtime !== 'onnx') throw new PolyPruneError('BAD_ARGUMENT', `--runtime '${o.runtime}' is not a runtime: give engine or onnx.`);
      const engine = createEngine();
      try {
        const m = await engine.loadModel(modelSpec(o.model), { onProgress: o.json ? undefined : progressPrinter() });
        const req = { prompt: o.prompt, maxNewTokens: o.maxNewTokens, temperature: o.temperature, topK: o.topK, topP: o.topP, seed: o.seed, repetitionPenalty: o.repetitionPenalty };
        let r: GenerateResult;
        if (o.runtime === 'engine') {
          if (!o.json) process.stdout.write(o.prompt);
          r = await engine.generate(m.id, req, { onProgress: o.json ? undefined : (e) => e.kind === 'token' && process.stdout.write(e.text) });
          if (!o.json) process.stdout.write('\n');
        } else {
          // The engine checks the request the same way (and gives the prompt's ids) before anything is exported.
          const check = await engine.generate(m.id, { ...req, checkOnly: true });
          r = await generateOnnx(engine, m, check.promptIds, { maxNewTokens: o.maxNewTokens, sampling: check.settings }, o.json ? undefined : progressPrinter());
          if (!o.json) console.log(o.prompt + r.text);
        }
        if (o.json) console.log(JSON.stringify({ model: m.source, runtime: o.runtime, prompt: o.prompt, ...r, promptIds: Array.from(r.promptIds), tokens: Array.from(r.tokens) }, null, 2));
        else process.stderr.write(`polyprune: ${r.tokens.length} token${r.tokens.length === 1 ? '' : 's'} (${r.stopReason === 'eos' ? 'stopped at EOS' : 'max new tokens'}), mean log-probability ${mean(r.logprobs).toFixed(4)}\n`);
      } finally {
        await engine.dispose();
      }
    });
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

type TjsTensor = { data: Float32Array | BigInt64Array; dims: number[]; tolist(): unknown };

/**
 * The ONNX export of model `m` in transformers.js: greedy through its own `generate` (its K/V cache,
 * stopping at generation_config.json's EOS), sampling through full forwards of the ONNX model with
 * PolyPrune's warpers and seeded draws (transformers.js's sampler takes no seed). Log-probabilities
 * come from the ONNX model's logits.
 */
async function generateOnnx(
  engine: LocalEngine,
  m: ModelSummary,
  promptIds: Int32Array,
  req: { maxNewTokens: number; sampling: SamplingSettings },
  onProgress?: ReturnType<typeof progressPrinter>,
): Promise<GenerateResult> {
  let tjs: typeof import('@huggingface/transformers');
  try {
    tjs = await import('@huggingface/transformers');
  } catch (e) {
    throw new PolyPruneError('BAD_ARGUMENT', `--runtime onnx needs the @huggingface/transformers package (${(e as Error).message.split('\n')[0]}); install it with npm, or use --runtime engine.`);
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'polyprune-generate-'));
  try {
    const signal = cliSignal();
    await exportToFolder(engine, m.id, path.join(tmp, 'model'), { format: 'onnx', onnxVariants: ['fp32'] }, { opId: 'generate-export', onProgress });
    throwIfAborted(signal);
    const { AutoModelForCausalLM, AutoTokenizer, Tensor, env } = tjs;
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = tmp;
    env.useBrowserCache = false;
    env.useFSCache = false;
    const tokenizer = await AutoTokenizer.from_pretrained('model');
    const model = await AutoModelForCausalLM.from_pretrained('model', { dtype: 'fp32', device: 'cpu' });
    try {
      const V = m.vocabSize;
      const inputs = (ids: number[]) => ({
        input_ids: new Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, ids.length]),
        attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
      });
      const lastLogits = async (ids: number[]): Promise<Float32Array> => {
        const out = (await model(inputs(ids))) as { logits: TjsTensor };
        return (out.logits.data as Float32Array).slice((ids.length - 1) * V, ids.length * V);
      };
      const eos = new Set<number>(eosIdsOf(model.generation_config));
      const prompt = Array.from(promptIds);
      let tokens: number[];
      if (req.sampling.temperature === 0) {
        const out = (await model.generate({ ...inputs(prompt), max_new_tokens: req.maxNewTokens, do_sample: false, repetition_penalty: req.sampling.repetitionPenalty })) as TjsTensor;
        tokens = (out.tolist() as bigint[][])[0].map(Number).slice(prompt.length);
      } else {
        const rng = new PyRandom(req.sampling.seed);
        tokens = [];
        for (let i = 0; i < req.maxNewTokens; i++) {
          throwIfAborted(signal);
          const id = pickToken(await lastLogits([...prompt, ...tokens]), req.sampling, rng, [...prompt, ...tokens]);
          tokens.push(id);
          onProgress?.({ kind: 'token', token: id, text: '', logprob: 0, done: i + 1, total: req.maxNewTokens });
          if (eos.has(id)) break;
        }
      }
      // Per-token log-probabilities from one forward over prompt + continuation.
      const logprobs: number[] = [];
      if (tokens.length) {
        const seq = [...prompt, ...tokens.slice(0, -1)];
        const all = ((await model(inputs(seq))) as { logits: TjsTensor }).logits.data as Float32Array;
        tokens.forEach((t, i) => logprobs.push(logSoftmax(all.subarray((prompt.length - 1 + i) * V, (prompt.length + i) * V))[t]));
      }
      const stopReason = tokens.length && eos.has(tokens[tokens.length - 1]) ? 'eos' : 'length';
      const body = stopReason === 'eos' ? tokens.slice(0, -1) : tokens;
      const head = tokenizer.decode(prompt);
      const all = tokenizer.decode([...prompt, ...body]);
      return {
        promptIds,
        tokens: Int32Array.from(tokens),
        text: all.startsWith(head) ? all.slice(head.length) : tokenizer.decode(body),
        logprobs,
        stopReason,
        settings: { maxNewTokens: req.maxNewTokens, ...req.sampling, stopAtEos: true },
      };
    } finally {
      await model.dispose();
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function eosIdsOf(gc: unknown): number[] {
  const e = (gc as { eos_token_id?: number | number[] } | null)?.eos_token_id;
  return e === undefined || e === null ? [] : Array.isArray(e) ? e : [e];
}
