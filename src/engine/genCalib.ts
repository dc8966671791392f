/**
 * Self-generated calibration text ("Beware of Calibration Data for Pruning Large Language Models",
 * Ji et al., ICLR 2025): the dense model writes windows from a language prompt (or the BOS token
 * alone); optionally more windows than needed are written and those the model finds least likely
 * (highest perplexity) are dropped. Deterministic: window j draws from PyRandom(seed * 2^32 + j), so
 * the same request on the same model gives the same text (its SHA-256 is recorded and checked when a
 * record is run again). docs/generate.md.
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import type { ProgressCallback } from '../common/progress';
import { PyRandom } from '../calib/random';
import { sha256Hex } from '../calib/text';
import { generateBatch, resolveSampling } from '../model/generate';
import type { GeneratedCalibration, GenerateCalibrationRequest } from './api';
import type { LoadedModel } from './loaded';
import { promptIdsOf } from './generate';

/** Sequences generated at once (matmuls cost the same up to 64 rows). */
const BATCH = 32;

export async function generateCalibration(m: LoadedModel, req: GenerateCalibrationRequest, o: { signal?: AbortSignal; onProgress?: ProgressCallback } = {}): Promise<GeneratedCalibration> {
  const bad = (msg: string) => new PolyPruneError('BAD_ARGUMENT', msg);
  if (!Number.isInteger(req.windows) || req.windows < 1 || req.windows > 4096) throw bad(`Generated windows ${String(req.windows)} is out of range: give a whole number from 1 to 4096.`);
  if (typeof req.keep !== 'number' || !(req.keep > 0 && req.keep <= 1)) throw bad(`Perplexity filter ratio ${String(req.keep)} is out of range: give the share of windows to keep, above 0 and at most 1 (1 = no filter; the paper keeps 0.8).`);
  const promptIds = req.prompt === null ? promptIdsOf(m, { prompt: '' }) : promptIdsOf(m, { prompt: req.prompt });
  const ctx = m.cfg.maxPositionEmbeddings;
  if (!Number.isInteger(req.tokens) || req.tokens < 1 || promptIds.length + req.tokens > ctx) {
    throw bad(`Generated tokens per window ${String(req.tokens)} is out of range: give a whole number from 1 to ${Math.max(1, ctx - promptIds.length)} (the model's context of ${ctx} minus the prompt's ${promptIds.length} tokens).`);
  }
  const sampling = resolveSampling({ temperature: req.temperature, topK: req.topK, topP: req.topP, seed: req.seed, repetitionPenalty: req.repetitionPenalty }, m.cfg.vocabSize);
  if (sampling.temperature === 0) throw bad('Generated calibration text needs sampling (temperature above 0): greedy decoding writes the same window every time.');
  const total = Math.ceil(req.windows / req.keep);
  const seqs: { tokens: Int32Array; nll: number; j: number }[] = [];
  let done = 0;
  for (let j0 = 0; j0 < total; j0 += BATCH) {
    throwIfAborted(o.signal);
    const n = Math.min(BATCH, total - j0);
    const rngs = Array.from({ length: n }, (_, b) => new PyRandom(BigInt(sampling.seed) * 2n ** 32n + BigInt(j0 + b)));
    const out = await generateBatch(m.model, promptIds, {
      rngs,
      maxNewTokens: req.tokens,
      sampling,
      eos: new Set(),
      signal: o.signal,
      onToken: (b) => {
        done++; // one token of one window
        if (b === n - 1) o.onProgress?.({ kind: 'calibrate', message: `generating calibration text: windows ${j0 + 1}-${j0 + n} of ${total}`, done, total: total * req.tokens });
      },
    });
    out.forEach((g, b) => seqs.push({ tokens: g.tokens, nll: -g.logprobs.reduce((a, x) => a + x, 0) / g.logprobs.length, j: j0 + b }));
  }
  // Perplexity filter: keep the `windows` most likely windows (lowest mean NLL under the model), in order.
  const kept = [...seqs].sort((a, b) => a.nll - b.nll || a.j - b.j).slice(0, req.windows).sort((a, b) => a.j - b.j);
  const texts = kept.map((s) => m.tokenizer.decode([...promptIds, ...s.tokens].filter((id) => id !== m.summary.bosTokenId)).trim());
  const text = texts.join('\n\n');
  const bytes = new TextEncoder().encode(text);
  if (!text.trim()) throw new PolyPruneError('CALIBRATION_INVALID', 'The model wrote no text (only special tokens); use another prompt or seed.');
  const meanNll = kept.reduce((a, s) => a + s.nll, 0) / kept.length;
  return {
    text,
    bytes: bytes.byteLength,
    sha256: await sha256Hex(bytes),
    generated: {
      language: req.language,
      prompt: req.prompt,
      windows: req.windows,
      tokens: req.tokens,
      keep: req.keep,
      temperature: sampling.temperature,
      topK: sampling.topK,
      topP: sampling.topP,
      repetitionPenalty: sampling.repetitionPenalty,
      seed: sampling.seed,
      model: m.summary.sha256,
    },
    written: total,
    perplexity: Math.exp(meanNll),
  };
}
