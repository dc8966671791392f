/**
 * The shipped default model must stay clearly above chance on the shipped downstream tasks
 * (public/data/tasks): the test scores the task files with the model on the WGSL engine, nothing is
 * hard-coded but the margins. To stay quick on a software adapter it scores a stated subset: the first
 * ITEMS items (one per sentence) of every language's `swap` file except Swahili's (see NOT_ASSERTED).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelConfig } from '../src/io/config';
import { dirFolder } from '../src/io/node';
import { openCheckpoint } from '../src/io/safetensors';
import { loadTokenizerFromFolder } from '../src/io/tokenizer';
import { LlamaModel } from '../src/model/llama';
import { gpuScorer } from '../src/engine/perplexity';
import { scoreMultipleChoice } from '../src/eval/score';
import { parseTaskIndex } from '../src/eval/taskIndex';
import { parseTask } from '../src/eval/tasks/index';
import { testGpu } from './helpers/gpu';

const MODEL = resolve(process.cwd(), 'public/models/polyprune-ml');
const TASKS = resolve(process.cwd(), 'public/data/tasks');
const ITEMS = 6;
/** Pooled over all languages: at least chance + 20 points (the aim of the bundled tasks). */
const POOLED_MARGIN = 0.2;
/** Every single language: at least chance on its subset (6 items are too few for more). */
const LANGUAGE_MARGIN = 0.0;
/**
 * Swahili is left out of both checks: the model saw only 4 kB of Swahili (UDHR) and is near chance
 * there (62.5 ± 7.8 % on 40 items, MODEL_CARD.md); its file is shipped and scored, not asserted.
 */
const NOT_ASSERTED = new Set(['sw']);

describe('bundled tasks on the shipped default model', () => {
  let model: LlamaModel | undefined;
  afterAll(() => model?.destroy());

  it(`dense model: swap minimal pairs (first ${ITEMS} items per language) clearly above chance`, { timeout: 1_800_000 }, async () => {
    const index = parseTaskIndex(readFileSync(join(TASKS, 'index.json'), 'utf8'));
    const folder = dirFolder(MODEL);
    const gpu = await testGpu();
    model = await LlamaModel.load(gpu, await loadModelConfig(folder), await openCheckpoint(folder));
    const tok = await loadTokenizerFromFolder(folder);
    const scorer = gpuScorer(model);
    expect(index.tasks.filter((t) => t.id.endsWith('.swap'))).toHaveLength(11);
    const swap = index.tasks.filter((t) => t.id.endsWith('.swap') && !NOT_ASSERTED.has(t.language));
    let correct = 0;
    let n = 0;
    let chance = 0;
    const report: string[] = [];
    for (const t of swap) {
      const parsed = parseTask(t.task, readFileSync(join(TASKS, t.file), 'utf8'), { language: t.language });
      const r = await scoreMultipleChoice(parsed, parsed.items, tok, scorer, { limit: ITEMS });
      expect(r.n, t.id).toBe(ITEMS);
      expect(Number.isFinite(r.acc), t.id).toBe(true);
      report.push(`${t.language} ${r.acc.toFixed(2)}`);
      expect(r.acc, `${t.id}: ${r.acc} on ${r.n} items, chance ${t.chance}`).toBeGreaterThanOrEqual(t.chance + LANGUAGE_MARGIN);
      correct += r.acc * r.n;
      n += r.n;
      chance += t.chance * r.n;
    }
    const pooled = correct / n;
    console.log(`bundled swap tasks, dense, first ${ITEMS} items: pooled ${pooled.toFixed(3)}; ${report.join(', ')}`);
    expect(pooled, `pooled ${pooled.toFixed(3)} (${report.join(', ')}), chance ${(chance / n).toFixed(2)}`).toBeGreaterThanOrEqual(chance / n + POOLED_MARGIN);
  });
});
