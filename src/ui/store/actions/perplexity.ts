/** Perplexity of the active model on bundled or own text. */
import type { ModelSummary, OpOptions, PerplexityResult } from '../../../engine/api';
import { evalTextUrl } from '../../paths';
import type { Panel } from '../messagesSlice';
import { activeModel, bundledText, getEngine, runOp, store, throwIfCancelled } from './core';

function checkedSizes(panel: Panel): { seqlen: number; maxWindows: number } | undefined {
  const { seqlen, maxWindows } = store();
  if (!Number.isInteger(seqlen) || seqlen < 2) {
    store().pushMessage({ panel, level: 'error', code: 'BAD_ARGUMENT', text: 'Sequence length must be a whole number of at least 2.' });
    return undefined;
  }
  if (!Number.isInteger(maxWindows) || maxWindows < 1) {
    store().pushMessage({ panel, level: 'error', code: 'BAD_ARGUMENT', text: 'Max windows must be a whole number of at least 1.' });
    return undefined;
  }
  return { seqlen, maxWindows };
}

async function measure(model: ModelSummary, text: string, label: string, language: string | undefined, opts: OpOptions): Promise<PerplexityResult> {
  const { seqlen, maxWindows } = store();
  const result = await getEngine().perplexity(model.id, { text, seqlen, maxWindows, language }, opts);
  const replaced = store().addPplResult({ modelId: model.id, modelName: model.name, label, maxWindows, result });
  if (replaced) {
    store().pushMessage({ panel: 'perplexity', level: 'info', text: `Measured ${model.name} on ${label} again with the same settings (at most ${maxWindows} windows of ${result.seqlen} tokens); its row shows the new numbers.` });
  }
  return result;
}

/** Perplexity of the active model on the selected text. */
export async function runPerplexity(): Promise<void> {
  const model = activeModel('perplexity');
  if (!model || !checkedSizes('perplexity')) return;
  const src = store().textSource;
  if (src.kind === 'custom' && !store().customText.trim()) {
    store().pushMessage({ panel: 'perplexity', level: 'error', code: 'BAD_ARGUMENT', text: 'Paste or drop some text first, or choose a bundled language.' });
    return;
  }
  const label = src.kind === 'bundled' ? src.language : store().customTextName;
  await runOp('perplexity', `Perplexity (${label})`, async (opts) => {
    const text = src.kind === 'bundled' ? await bundledText(evalTextUrl(src.language), `Evaluation text '${src.language}'`) : store().customText;
    return measure(model, text, label, src.kind === 'bundled' ? src.language : undefined, opts);
  });
}

/** Perplexity of the active model on the bundled evaluation text of every language, one by one. */
export async function measureAllLanguages(): Promise<void> {
  const model = activeModel('perplexity');
  const langs = store().languages;
  if (!model || !checkedSizes('perplexity')) return;
  if (langs.state !== 'ready') {
    store().pushMessage({ panel: 'perplexity', level: 'error', code: 'FILE_NOT_FOUND', text: 'No bundled languages in this build.' });
    return;
  }
  await runOp('perplexity', `Perplexity, all ${langs.languages.length} languages`, async (opts, signal) => {
    const total = langs.languages.length;
    for (const [i, lang] of langs.languages.entries()) {
      throwIfCancelled(signal);
      // The language counter lives in the step line; the engine's own window progress goes below it.
      store().setOpOverall(opts.opId, { done: i, total, message: `language ${lang}` });
      store().setOpProgress(opts.opId, null);
      const text = await bundledText(evalTextUrl(lang), `Evaluation text '${lang}'`);
      await measure(model, text, lang, lang, opts);
    }
  });
}
