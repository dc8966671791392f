/** Perplexity of the active model on bundled or own text. */
import type { ModelSummary, OpOptions, PerplexityResult } from '../../../engine';
import { perplexityResultRecord, type PerplexityResultRecord } from '../../../experiment/records';
import { evalTextUrl } from '../../paths';
import type { Panel } from '../../store/messagesSlice';
import { activeModel, bundledText, getEngine, runOp, store } from '../../store/actions/core';
import { keepRecord, runHeader, textRef } from '../history/records';
import { throwIfAborted } from '../../../common/errors';

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

/**
 * Measure, add the row to the table and keep the result record in History. `settings` defaults to
 * the form's; a re-run passes the record's. Returns the History entry id (undefined when not kept).
 */
async function measure(
  model: ModelSummary,
  text: string,
  label: string,
  language: string | undefined,
  opts: OpOptions,
  settings: { seqlen: number; maxWindows?: number; stride?: number } = { seqlen: store().seqlen, maxWindows: store().maxWindows },
): Promise<{ result: PerplexityResult; entry: string | undefined }> {
  const result = await getEngine().perplexity(model.id, { text, textName: label, ...settings, language }, opts);
  for (const w of result.warnings ?? []) store().pushMessage({ panel: 'perplexity', level: 'info', text: `Warning (${label}): ${w}` });
  const maxWindows = settings.maxWindows ?? result.windows;
  const replaced = store().addPplResult({ modelId: model.id, modelName: model.name, label, maxWindows, result });
  if (replaced) {
    store().pushMessage({ panel: 'perplexity', level: 'info', text: `Measured ${model.name} on ${label} again with the same settings (at most ${maxWindows} windows of ${result.seqlen} tokens); its row shows the new numbers.` });
  }
  // Bundled text is named as the experiment names it (eval/<lang>.txt), so a re-run finds it by hash.
  const entry = await keepRecord(async () =>
    perplexityResultRecord(await runHeader(model), await textRef(language ? `eval/${language}.txt` : label, text, language ?? null), { seqlen: result.seqlen, stride: result.stride, maxWindows: settings.maxWindows }, result),
  );
  return { result, entry };
}

/** Measure a perplexity record again (History's Re-run): same text (checked by hash), same windows. */
export async function rerunPerplexity(model: ModelSummary, rec: PerplexityResultRecord, text: string): Promise<string | undefined> {
  const language = rec.text.language ?? undefined;
  const label = language ?? rec.text.name;
  const settings = { seqlen: rec.settings.seqlen, ...(rec.settings.maxWindows !== null ? { maxWindows: rec.settings.maxWindows } : {}), ...(rec.settings.stride !== null ? { stride: rec.settings.stride } : {}) };
  const out = await runOp('perplexity', `Re-run: perplexity (${label}) on ${model.name}`, (opts) => measure(model, text, label, language, opts, settings));
  return out?.entry;
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
      throwIfAborted(signal);
      // The language counter lives in the step line; the engine's own window progress goes below it.
      store().setOpOverall(opts.opId, { done: i, total, message: `language ${lang}` });
      store().setOpProgress(opts.opId, null);
      const text = await bundledText(evalTextUrl(lang), `Evaluation text '${lang}'`);
      await measure(model, text, lang, lang, opts);
    }
  });
}
