/**
 * The shipped default model through PolyPrune's own WGSL forward pass: held-out bits per byte of one
 * language equals PyTorch's value recorded in metrics.json (1e-3 relative). CI never retrains.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelConfig } from '../src/io/config';
import { dirFolder, pathSource } from '../src/io/node';
import { openCheckpoint, openSafetensors } from '../src/io/safetensors';
import { loadTokenizerFromFolder } from '../src/io/tokenizer';
import { LlamaModel } from '../src/model/llama';
import { aggregatePerplexity } from '../src/eval/perplexity';
import { testGpu } from './helpers/gpu';

const DIR = resolve(process.cwd(), 'public/models/polyprune-ml');
// The smallest eval set (Swahili, from the UDHR) keeps this quick on a software adapter.
const LANG = 'sw';

describe('default model on the WGSL engine', () => {
  it(`${LANG}: bits per byte of the stored eval windows equals PyTorch's (metrics.json) to 1e-3`, async () => {
    const metrics = JSON.parse(readFileSync(join(DIR, 'metrics.json'), 'utf8'));
    const want = metrics.languages[LANG];
    const folder = dirFolder(DIR);
    const gpu = await testGpu();
    const model = await LlamaModel.load(gpu, await loadModelConfig(folder), await openCheckpoint(folder));
    const tok = await loadTokenizerFromFolder(folder);
    const f = await openSafetensors(pathSource(join(DIR, `eval-${LANG}.safetensors`)));
    const [n, seqlen] = f.tensors.get('input_ids')!.shape;
    const ids = await f.readI32('input_ids');
    await f.close();
    const windows = Array.from({ length: n }, (_, i) => ({ tokens: ids.slice(i * seqlen, (i + 1) * seqlen), scoreFrom: 1, start: i * seqlen, doc: 0 }));
    const nll = await model.tokenNll(windows.map((w) => w.tokens));
    const st = aggregatePerplexity(windows, nll, { tokenBytes: tok.tokenByteLengths() });
    model.destroy();
    expect(st.tokens).toBe(want.predicted_tokens);
    expect(st.bytes).toBe(want.target_bytes);
    expect(Math.abs(st.bitsPerByte! - want.bpb) / want.bpb, `WGSL ${st.bitsPerByte} vs PyTorch ${want.bpb}`).toBeLessThan(1e-3);
  });
});
