/**
 * The shipped default model must stay clearly above chance on the shipped downstream tasks
 * (public/data/tasks): the test scores the task files with the model on the WGSL engine, nothing is
 * hard-coded but the margins. To stay quick on a software adapter it scores a stated subset: the first
 * ITEMS items (one per sentence) of every language's `swapfar` file (the default bundled task) except
 * Swahili's (see NOT_ASSERTED).
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
/**
 * Items per language (9: the test stays near 40 s on lavapipe). The margins follow from the dense
 * accuracies in the model card ("Downstream tasks", swapfar, first 200 items per language, zh 168:
 * 76.5 to 93.0 %, about 84.6 % averaged over the ten asserted languages): on 10 x 9 items the pooled
 * standard error is about sqrt(0.846 * 0.154 / 90) = 3.8 points, so chance + 20 (70 %) lies 3.8 standard errors
 * below the expected pooled accuracy and this subset's sampling error does not fail a healthy model,
 * while a model that loses 20 of its ~35 points above chance fails. 9 items of one language have a
 * standard error of 8 to 14 points, too many for a per-language bar of chance + 20; each language
 * must still be at least at chance on its subset.
 */
const ITEMS = 9;
/** Pooled over the asserted languages: at least chance + 20 points (the aim of the bundled tasks). */
const POOLED_MARGIN = 0.2;
/** Every asserted language: at least chance on its items (see ITEMS). */
const LANGUAGE_MARGIN = 0.0;
/**
 * Swahili is left out of both checks: its held-out text (UDHR articles 23..30) gives only 21 usable
 * sentences and the model saw only 4 kB of Swahili; it stays below the aim on every construction
 * measured (docs/eval-tasks.md, "Swahili").
 * Its files are shipped and scored by the card, not asserted here.
 */
const NOT_ASSERTED = new Set(['sw']);

describe('bundled tasks on the shipped default model', () => {
  let model: LlamaModel | undefined;
  afterAll(() => model?.destroy());

  it(`dense model: swapfar minimal pairs (first ${ITEMS} items per language) clearly above chance`, { timeout: 1_800_000 }, async () => {
    const index = parseTaskIndex(readFileSync(join(TASKS, 'index.json'), 'utf8'));
    const folder = dirFolder(MODEL);
    const gpu = await testGpu();
    model = await LlamaModel.load(gpu, await loadModelConfig(folder), await openCheckpoint(folder));
    const tok = await loadTokenizerFromFolder(folder);
    const scorer = gpuScorer(model);
    expect(index.tasks.filter((t) => t.id.endsWith('.swapfar'))).toHaveLength(11);
    const swap = index.tasks.filter((t) => t.id.endsWith('.swapfar') && !NOT_ASSERTED.has(t.language));
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
    console.log(`bundled swapfar tasks, dense, first ${ITEMS} items: pooled ${pooled.toFixed(3)}; ${report.join(', ')}`);
    expect(pooled, `pooled ${pooled.toFixed(3)} (${report.join(', ')}), chance ${(chance / n).toFixed(2)}`).toBeGreaterThanOrEqual(chance / n + POOLED_MARGIN);
  });
});
