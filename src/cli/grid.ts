/**
 * `polyprune grid`: the study's experiment headless, through the same runStudy and the same
 * experiment record as the page. Rows: dense + one pruned model per calibration source (own files
 * with --calib, or bundled languages with --data/--calib-langs); columns: evaluation languages with
 * held-out text (--data/--eval-langs or --eval files) and tasks (--task name:file[:lang]). Ctrl-C
 * stops cleanly: what was measured is printed (and written with --out), marked incomplete.
 */
import { describeEstimate, estimateStudy, measureForwardRate, studyShapeOf } from '../experiment/estimate';
import { checkOutFile, partialOf, writeOutFile } from './outFile';
import { cliSignal, removeOnHardExit, setCancelMessage } from './cancel';
import { applyPreset } from './preset';
import { addHubOptions, hubTaskRows, hubText, hubTextResumed, isHubSource, textBytesFor, type HubCliOptions, type RecordedHubText } from './hubData';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { PolyPruneError } from '../common/errors';
import { identifyLanguageOfBytes } from '../calib/langid';
import { resolveTaskName } from '../eval/lmEvalNames';
import { resolveVariants, runStudy, studyMarkdown, studySizeMarkdown, type StudyColumn, type StudyInputs, type StudySource, type StudySpec, type StudyVariant } from '../experiment/study';
import { parseVariant, variantLabel } from '../experiment/variants';
import type { ExperimentRecord } from '../experiment/records';
import { readRecordFile } from './share';
import { METHODS, MIX_METHODS, PRUNE_METHODS, assertNoDuplicates, hubTextRef, methodSpec, type PruneMethod } from '../engine';
import { createEngine, modelSpec, parseIntArg, parseSeed, seedArg } from './main';
import { progressPrinter } from './progress';
import { addGenOptions, pendingGen, writeGenerated, type GenCliOptions, type PendingGen } from './genCalib';
import { isGenSource } from '../calib/genSource';
import { decodeUtf8Strict, readTextArg, readTextHead } from './text';
import { addProfileOptions, bitsArg, groupSizeArg, methodArg, nmArg, profileFields, settingsArgs, sparsityArg, type PruneCliFields, type PruneSettingsFields } from './pattern';

/** The options of `grid`: the settings schema's fields (pattern.ts; --method may come from --preset) and the run's. */
interface GridCliOptions extends Omit<PruneCliFields, 'quantize'> {
  model: string;
  preset?: string;
  plan?: boolean;
  data?: string;
  calibLangs?: string;
  calib?: string[];
  evalLangs?: string;
  eval?: string[];
  task?: string[];
  nsamples: number;
  seqlen: number;
  seeds?: string;
  seed?: number;
  evalSeqlen: number;
  evalMaxWindows?: number;
  taskLimit?: number;
  recon: boolean;
  maskOverlap: boolean;
  json?: boolean;
  out?: string;
  resume?: string;
  instant?: boolean;
  confirm?: boolean;
  variant?: string[];
  bits?: number;
  groupSize?: number;
  actOrder?: boolean;
  staticGroups?: boolean;
}

const LANG_SUFFIX = /^(.*):([A-Za-z]{2,3}(?:[-_][A-Za-z]{2,8})?)$/;
const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** 'file.txt:de' -> file and language; a path that exists as given is a file without language. */
function fileAndLanguage(arg: string): { file: string; language?: string } {
  const m = LANG_SUFFIX.exec(arg);
  if (m && !existsSync(arg)) return { file: m[1], language: m[2] };
  return { file: arg };
}

async function readText(file: string, what: string, headTokens?: number): Promise<{ bytes: Uint8Array; text: string }> {
  // calibration needs only the start of a large file (the app's rule); other texts are read whole
  const bytes = headTokens ? await readTextHead(file, headTokens, `The ${what}`, (w) => process.stderr.write(`polyprune: warning: ${w}\n`)) : await readTextArg(file, `The ${what}`);
  const text = decodeUtf8Strict(bytes, file);
  if (!text.trim()) throw new PolyPruneError('BAD_ARGUMENT', `The ${what} '${file}' is empty.`);
  return { bytes, text };
}

/** Language given with `:lang`, or identified (franc-min); one clear message when it cannot be told. */
function languageOf(file: string, bytes: Uint8Array, given: string | undefined, flag: string): string {
  if (given) return given;
  const g = identifyLanguageOfBytes(bytes);
  if (!g) throw new PolyPruneError('BAD_ARGUMENT', `Cannot identify the language of '${file}'; give it as ${flag} ${file}:<lang> (e.g. ${file}:de).`);
  return g.language;
}

/** Unique row/column labels: base names, or the paths where base names collide. */
function labels(files: string[]): string[] {
  const base = files.map((f) => path.basename(f));
  return base.map((b, i) => (base.indexOf(b) === base.lastIndexOf(b) ? b : files[i]));
}

export function registerGrid(program: Command): void {
  const cmd = program
    .command('grid')
    .description("The study's experiment: prune once per calibration source, measure perplexity, bits per byte and task accuracy in every evaluation language, per seed.")
    .option('-m, --model <dir|url>', 'model folder or URL')
    .option('--preset <name>', "the study's design (kurz2026: Kurz et al., TACL 2026): fills every option not given (docs/data.md)")
    .option('--plan', 'with --preset: print what the run will download and do, and exit')
    .option('--data <dir>', 'folder with calib/<lang>.txt and eval/<lang>.txt (the bundled model has them)')
    .option('--calib-langs <l,...>', 'calibration languages from --data (one row each)')
    .option('--calib <files...>', "own calibration files, one row each; language detected or given as 'file.txt:de'; a mix of several in one row as 'a.txt*2+b.txt'; Hub corpora as hub:mc4:de, hub:fineweb2:de, hub:wikipedia:de; text the model writes itself as gen:de, gen:de:bos or gen:de:<prompt> (--gen-* options, docs/generate.md)")
    .option('--eval-langs <l,...>', 'evaluation languages with held-out text from --data (default: the calibration languages)')
    .option('--eval <files...>', "own held-out text files as evaluation columns, 'file.txt[:lang]', or Hub corpora (hub:mc4:de:validation)")
    .option('--task <specs...>', 'tasks per evaluation language, each name:file[:lang]: a format (xcopa, xwinograd, jsonl, ...) or an lm-eval name (xcopa_it, xnli_de, belebele_deu_Latn); an lm-eval name alone loads its data from the Hub')
    .option('--method <name>', PRUNE_METHODS.join(', '))
    .option('--variant <specs...>', 'several methods side by side, one row per method and calibration source: method@pattern, e.g. wanda@0.5 sparsegpt@2:4 gptq@4bit (gptq@4bit/g64, /per-channel, /act-order, /static); instead of --method')
    .option('--bits <n>', 'with --method gptq: bits per weight, 2, 3, 4 or 8', bitsArg)
    .option('--group-size <n>', 'with --bits: input columns per group (default 128; per-channel or -1)', groupSizeArg)
    .option('--act-order', 'with --bits: quantize columns in order of decreasing Hessian diagonal')
    .option('--static-groups', 'with --bits: all group parameters from the weights before any update')
    .option('--sparsity <ratio>', 'unstructured sparsity in (0, 1), e.g. 0.5', sparsityArg)
    .option('--nm <N:M>', 'semi-structured N:M, e.g. 2:4', nmArg)
    .option('--nsamples <n>', 'calibration windows', parseIntArg('--nsamples'), 32)
    .option('--seqlen <n>', 'calibration window length', parseIntArg('--seqlen', 2), 128)
    .option('--seeds <s,...>', 'calibration sampler seeds; several give mean and spread per cell (default 0)')
    .option('--seed <n>', 'one sampler seed (same as --seeds n)', seedArg('--seed'))
    .option('--eval-seqlen <n>', 'evaluation window length', parseIntArg('--eval-seqlen', 2), 128)
    .option('--eval-max-windows <n>', 'evaluation windows per language', parseIntArg('--eval-max-windows'))
    .option('--task-limit <n>', 'score at most this many items per task', parseIntArg('--task-limit'))
    .option('--no-recon', 'skip the per-layer reconstruction error')
    .option('--no-mask-overlap', 'skip the mask IoU between rows')
    .option('--instant', `instant rows (${MIX_METHODS.join(', ')}): one dense calibration pass per seed collects every source's statistics, each row is derived from them (masks; GPTQ: quantized from the mixed Hessians; docs/mixer.md)`)
    .option('--confirm', 'with --instant: after each row its exact sequential prune (or quantize), with the per-layer mask IoU (GPTQ: share of equal integer codes) against the instant row')
    .option('--json', 'print the experiment record as JSON')
    .option('--out <file.json>', 'also write the experiment record to this file (written even when stopped early)')
    .option('--resume <file.json>', 'continue an experiment record written by --out: measured cells are kept');
  addGenOptions(addHubOptions(addProfileOptions(cmd))).action(async (o: GridCliOptions & HubCliOptions & GenCliOptions, command: Command) => {
      if (o.preset) {
        for (const line of applyPreset(o, command, o.preset)) process.stderr.write(`${line}\n`);
        if (o.plan) return;
      } else if (o.plan) throw new PolyPruneError('BAD_ARGUMENT', '--plan summarises a --preset run; give --preset kurz2026.');
      if (!o.model) throw new PolyPruneError('BAD_ARGUMENT', "required option '-m, --model <dir|url>' not specified (or give --preset kurz2026).");
      if (o.variant && (o.method || o.sparsity !== undefined || o.nm || o.bits !== undefined)) throw new PolyPruneError('BAD_ARGUMENT', 'Give the methods either with --variant (e.g. --variant wanda@0.5 gptq@4bit) or with --method and its pattern, not both.');
      if (!o.method && !o.variant) throw new PolyPruneError('BAD_ARGUMENT', `required option '--method <name>' not specified: ${PRUNE_METHODS.join(', ')} (or --variant, or --preset kurz2026).`);
      if (o.bits === undefined && (o.groupSize !== undefined || o.actOrder || o.staticGroups)) throw new PolyPruneError('BAD_ARGUMENT', '--group-size, --act-order and --static-groups set the quantizer: give --bits too (e.g. --method gptq --bits 4).');
      if (o.confirm && !o.instant) throw new PolyPruneError('BAD_ARGUMENT', '--confirm compares instant rows with the exact prune; add --instant.');
      if (o.out !== undefined) await checkOutFile(o.out, '--out', o.resume);
      let variants: StudyVariant[] | undefined = o.variant?.map(parseVariant);
      const quantize = o.bits !== undefined ? { bits: o.bits, groupSize: o.groupSize ?? 128, actOrder: !!o.actOrder, staticGroups: !!o.staticGroups } : undefined;
      let method: PruneMethod;
      let fields: PruneSettingsFields;
      if (variants) {
        method = variants[0].method;
        fields = profileFields(o);
      } else {
        method = methodArg(o.method!);
        if (methodSpec(method).quantizes) {
          if (!quantize) throw new PolyPruneError('BAD_ARGUMENT', `${method} quantizes: give --bits (e.g. --method ${method} --bits 4).`);
          if (o.sparsity !== undefined || o.nm) throw new PolyPruneError('BAD_ARGUMENT', `${method} quantizes and prunes nothing: drop --sparsity/--nm.`);
          variants = [{ method, quantize }];
          fields = profileFields(o);
        } else {
          ({ fields } = settingsArgs({ ...o, method: o.method!, ...(quantize ? { quantize } : {}) }));
          if (quantize) {
            // a pruning method with --bits: SparseGPT's joint mode, one variant row
            variants = [{ method, ...(fields.sparsity !== undefined ? { sparsity: fields.sparsity } : {}), ...(fields.nm ? { nm: fields.nm } : {}), quantize }];
            fields = profileFields(o);
          }
        }
      }
      // every method checked (the registry's validators) before anything is loaded
      if (variants) resolveVariants({ method, variants, ...fields, instant: o.instant });
      if (o.seeds !== undefined && o.seed !== undefined) throw new PolyPruneError('BAD_ARGUMENT', 'Give --seeds or --seed, not both.');
      const seeds = o.seeds !== undefined ? list(o.seeds).map((s) => parseSeed('--seeds', s)) : [o.seed ?? 0];
      if (!seeds.length) throw new PolyPruneError('BAD_ARGUMENT', '--seeds needs at least one seed, e.g. --seeds 0,1,2.');
      assertNoDuplicates(seeds.map(String), '--seeds');
      if ((o.calibLangs || o.evalLangs) && !o.data) throw new PolyPruneError('BAD_ARGUMENT', '--calib-langs and --eval-langs read texts from --data <dir>; give --data or use --calib/--eval files.');
      const calibrated = (variants ?? [{ method }]).some((v) => METHODS[v.method].calibrated);
      if (calibrated && !o.calibLangs && !o.calib) throw new PolyPruneError('BAD_ARGUMENT', `${method} needs calibration: give --calib <files...> or --data <dir> with --calib-langs <l,...>.`);
      if (!calibrated && (o.calib || o.calibLangs)) throw new PolyPruneError('BAD_ARGUMENT', 'magnitude pruning uses no calibration; drop --calib/--calib-langs.');

      const bundled = async (kind: 'calib' | 'eval', lang: string) => {
        const f = path.join(o.data!, kind, `${lang}.txt`);
        if (!existsSync(f)) throw new PolyPruneError('FILE_NOT_FOUND', `No ${kind === 'calib' ? 'calibration' : 'evaluation'} text for '${lang}': ${f} is missing.`);
        return (await readText(f, kind === 'calib' ? 'calibration text' : 'evaluation text', kind === 'calib' ? o.nsamples * o.seqlen + 1 : undefined)).text;
      };

      // the record to resume: its Hub texts are read again from their provenance (commit, offset, bytes)
      let resume: ExperimentRecord | undefined;
      if (o.resume) {
        const r = await readRecordFile(o.resume);
        if (r.kind !== 'experiment') throw new PolyPruneError('BAD_ARGUMENT', `--resume ${o.resume} is a ${r.kind} record, not an experiment.`);
        resume = r;
      }
      const hubTextOf = (arg: string, bytes: number, recorded: RecordedHubText[] | undefined) =>
        recorded ? hubTextResumed(arg, bytes, o, recorded, `--resume ${o.resume}`) : hubText(arg, bytes, o).then((t) => ({ ...t, hub: hubTextRef(t.provenance) }));

      // rows
      const sources: StudySource[] = [];
      const gens: PendingGen[] = [];
      const calibLangs = o.calibLangs ? list(o.calibLangs) : [];
      assertNoDuplicates(calibLangs, '--calib-langs');
      for (const l of calibLangs) sources.push({ label: l, texts: [{ name: `${l}.txt`, text: await bundled('calib', l), language: l }] });
      if (o.calib) {
        // each argument is one row: a file, or a mix 'a.txt*2+b.txt:de' (weights default 1)
        const rows = o.calib.map((arg) => {
          const parts = existsSync(arg) || !arg.includes('+') ? [arg] : arg.split('+');
          return parts.map((part) => {
            const w = /^(.*)\*([0-9.]+)$/.exec(part);
            const weight = w ? Number(w[2]) : undefined;
            if (w && !(weight! > 0 && Number.isFinite(weight))) throw new PolyPruneError('BAD_ARGUMENT', `--calib ${arg}: the weight of '${w[1]}' must be a positive number.`);
            const f = w ? w[1] : part;
            return { ...(isHubSource(f) || isGenSource(f) ? { file: f } : fileAndLanguage(f)), weight };
          });
        });
        assertNoDuplicates(
          rows.map((parts) => parts.map((p) => `${path.resolve(p.file)}*${p.weight ?? 1}`).join('+')),
          '--calib',
        );
        // single files are labelled by base name (the path where base names collide), mixes by their parts
        const singles = rows.filter((parts) => parts.length === 1).map((parts) => parts[0].file);
        const singleNames = labels(singles);
        const names = rows.map((parts) => (parts.length === 1 ? singleNames[singles.indexOf(parts[0].file)] : ''));
        for (const [i, parts] of rows.entries()) {
          const texts = [];
          for (const p of parts) {
            if (isGenSource(p.file)) {
              // written by the model once it is loaded (writeGenerated below)
              const g = pendingGen(p.file, o, o.nsamples, o.seqlen);
              if (parts.length > 1) g.text.weight = p.weight ?? 1;
              gens.push(g);
              texts.push(g.text);
              continue;
            }
            if (isHubSource(p.file)) {
              const t = await hubTextOf(p.file, textBytesFor(o.nsamples, o.seqlen), resume?.rows.flatMap((r) => r.sources));
              if (!t.language) throw new PolyPruneError('BAD_ARGUMENT', `--calib ${p.file}: a dataset has no language of its own; use a corpus by language (hub:mc4:de, hub:fineweb2:de, hub:wikipedia:de).`);
              texts.push({ name: t.name, bytes: new TextEncoder().encode(t.text), language: t.language, ...(parts.length > 1 ? { weight: p.weight ?? 1 } : {}), hub: t.hub });
              continue;
            }
            const { bytes } = await readText(p.file, 'calibration file', o.nsamples * o.seqlen + 1);
            const language = languageOf(p.file, bytes, p.language, '--calib');
            texts.push({ name: path.basename(p.file), bytes, language, ...(parts.length > 1 ? { weight: p.weight ?? 1 } : {}) });
          }
          if (parts.length === 1 && isGenSource(parts[0].file)) {
            sources.push({ label: texts[0].name, texts });
            continue;
          }
          if (parts.length === 1 && isHubSource(parts[0].file)) {
            sources.push({ label: parts[0].file.slice(4), texts });
            continue;
          }
          sources.push({ label: parts.length > 1 ? parts.map((p, k) => `${path.basename(p.file)}${(p.weight ?? 1) !== 1 ? `*${p.weight}` : ''}${k < parts.length - 1 ? '+' : ''}`).join('') : names[i], texts });
        }
      }

      // columns
      const columns: StudyColumn[] = [];
      const evalLangs = o.evalLangs ? list(o.evalLangs) : o.eval ? [] : o.data ? (calibLangs.length ? calibLangs : [...new Set(sources.flatMap((s) => s.texts.map((t) => t.language!)))]) : [];
      for (const l of evalLangs) columns.push({ language: l, text: { name: `${l}.txt`, text: await bundled('eval', l) }, tasks: [] });
      if (o.eval) {
        for (const arg of o.eval) {
          if (isHubSource(arg)) {
            const t = await hubTextOf(arg, textBytesFor(o.evalMaxWindows ?? 64, o.evalSeqlen), resume?.columns.flatMap((c) => (c.text ? [c.text] : [])));
            if (!t.language) throw new PolyPruneError('BAD_ARGUMENT', `--eval ${arg}: a dataset has no language of its own; use a corpus by language (hub:mc4:de:validation).`);
            if (columns.some((c) => c.language === t.language)) throw new PolyPruneError('BAD_ARGUMENT', `Two evaluation texts are in '${t.language}' (${arg}); give one per language.`);
            columns.push({ language: t.language, text: { name: t.name, text: t.text, hub: t.hub }, tasks: [] });
            continue;
          }
          const p = fileAndLanguage(arg);
          const { bytes, text } = await readText(p.file, 'evaluation text');
          const language = languageOf(p.file, bytes, p.language, '--eval');
          if (columns.some((c) => c.language === language)) throw new PolyPruneError('BAD_ARGUMENT', `Two evaluation texts are in '${language}' (${p.file}); give one per language.`);
          columns.push({ language, text: { name: path.basename(p.file), text }, tasks: [] });
        }
      }
      for (const spec of o.task ?? []) {
        if (!spec.includes(':')) {
          // an lm-eval task name alone: its data from the Hub (the dataset and split lm-eval scores)
          const named = resolveTaskName(spec);
          if (!named.lmEvalLanguage) throw new PolyPruneError('BAD_ARGUMENT', `--task ${spec}: give a file (${spec}:file.jsonl:<lang>) or an lm-eval task name with its language (e.g. ${spec}_${columns[0]?.language ?? 'de'}), whose data comes from the Hub.`);
          const col = columns.find((c) => c.language === named.language);
          if (!col) throw new PolyPruneError('BAD_ARGUMENT', `--task ${spec} is in '${named.language}', but there is no held-out text in '${named.language}' (evaluation languages: ${columns.map((c) => c.language).join(', ') || 'none'}); add it with --eval-langs or --eval.`);
          const rows = await hubTaskRows(named.task, named.lmEvalLanguage, o);
          (col.tasks ??= []).push({ label: spec, fileName: `hub:${rows.provenance.dataset}:${rows.provenance.config}:${rows.provenance.split}@${rows.provenance.sha.slice(0, 12)}`, request: { task: named.task, text: rows.text, language: named.language } });
          continue;
        }
        const m = /^([^:]+):(.+?)(?::([A-Za-z]{2,3}(?:[-_][A-Za-z]{2,8})?))?$/.exec(spec);
        if (!m) throw new PolyPruneError('BAD_ARGUMENT', `--task ${spec}: expected name:file[:lang], e.g. xcopa_it:val.it.jsonl or xwinograd:xwinograd.en.jsonl:en.`);
        const [, name, file, lang] = m;
        const named = resolveTaskName(name);
        if (named.language && lang && named.language !== lang) throw new PolyPruneError('BAD_ARGUMENT', `--task ${spec}: ${name} is in '${named.language}', not '${lang}'.`);
        const language = lang || named.language;
        if (!language) throw new PolyPruneError('BAD_ARGUMENT', `--task ${spec}: which language? Give it as ${name}:${file}:<lang> or use an lm-eval name such as ${name}_${columns[0]?.language ?? 'en'}.`);
        const col = columns.find((c) => c.language === language);
        if (!col) {
          throw new PolyPruneError('BAD_ARGUMENT', `--task ${spec} is in '${language}', but there is no held-out text in '${language}' (evaluation languages: ${columns.map((c) => c.language).join(', ') || 'none'}); add it with --eval-langs or --eval.`);
        }
        const { text } = await readText(file, 'task file');
        (col.tasks ??= []).push({ label: name === named.task && lang ? `${name}_${lang}` : name, fileName: path.basename(file), request: { task: named.task, text, language } });
      }
      if (!columns.length) throw new PolyPruneError('BAD_ARGUMENT', 'No evaluation language: give --data with --eval-langs, or --eval <files...>.');

      const spec: StudySpec = {
        method,
        ...fields,
        nsamples: o.nsamples,
        seqlen: o.seqlen,
        seeds,
        evalSeqlen: o.evalSeqlen,
        evalMaxWindows: o.evalMaxWindows,
        taskLimit: o.taskLimit,
        reconstructionError: o.recon,
        maskOverlap: o.maskOverlap,
        ...(o.instant ? { instant: true } : {}),
        ...(o.confirm ? { confirm: true } : {}),
        ...(variants ? { variants } : {}),
      };
      const inputs: StudyInputs = { sources, columns };

      const engine = createEngine();
      const signal = cliSignal();
      setCancelMessage(`stopping; the cells measured so far will be printed${o.out ? ` and written to ${o.out}` : ''} (Ctrl-C again to quit at once, writing nothing)`);
      const unregister = o.out !== undefined ? removeOnHardExit(partialOf(o.out)) : () => undefined;
      try {
        // progress goes to stderr even with --json: stdout holds only the record
        const progress = progressPrinter();
        const m = await engine.loadModel(modelSpec(o.model), { onProgress: progress });
        if (signal.aborted) throw new PolyPruneError('CANCELLED', 'Cancelled before the experiment started; nothing was measured.');
        await writeGenerated(engine, m.id, gens, progress);
        // how long, before anything starts: the run plan at a forward rate measured on this model and adapter
        const rate = await measureForwardRate(engine, m);
        process.stderr.write(`estimated time: ${describeEstimate(estimateStudy(studyShapeOf(spec, inputs, calibrated), rate), rate)}\n`);
        if (signal.aborted) throw new PolyPruneError('CANCELLED', 'Cancelled before the experiment started; nothing was measured.');
        const rec = await runStudy(engine, m.id, spec, inputs, { signal, onEvent: progress, resume });
        // the tables first: a record that cannot be written at the end does not lose the results
        if (o.json) console.log(JSON.stringify(rec, null, 2));
        else printTables(rec);
        if (o.out) {
          try {
            await writeOutFile(o.out, `${JSON.stringify(rec)}\n`);
          } catch (e) {
            throw new PolyPruneError('OUTPUT_FAILED', `${(e as Error).message.replace(/ Nothing was kept\.$/, '')}; the results are printed above${o.json ? '' : ' (rerun with --json to keep them as a record)'}.`);
          }
        }
        if (!rec.complete) {
          const total = rec.cells.flat().reduce((n, c) => n + c.ppl.length + c.acc.flat().length, 0);
          const measured = rec.cells.flat().reduce((n, c) => n + c.ppl.filter((x) => x !== null).length + c.acc.flat().filter((x) => x !== null).length, 0);
          throw new PolyPruneError(signal.aborted ? 'CANCELLED' : 'INTERNAL', `${rec.note ?? 'Stopped early.'} ${measured} of ${total} values were measured; the record above is marked incomplete${o.out ? ` (written to ${o.out}; continue with --resume ${o.out})` : ''}.`);
        }
      } finally {
        unregister();
        await engine.dispose();
      }
    });
}

function printTables(rec: ExperimentRecord): void {
  const s = rec.spec;
  const what = s.variants ? s.variants.map(variantLabel).join(' vs ') : `${s.method} ${s.nm ? `${s.nm.n}:${s.nm.m}` : s.sparsity}`;
  console.log(`${what}, seeds ${s.seeds.join(',')} (rows: calibration source, columns: evaluation language; mean ± sd over seeds; bold = best calibration)${rec.complete ? '' : '  [INCOMPLETE]'}\n`);
  if (s.instant) {
    console.log(`instant rows: ${s.variants?.some((v) => v.quantize) ? 'quantized from the mixed dense Hessians' : 'masks mixed from the dense statistics'} of one calibration pass per seed${s.confirm ? "; '(exact)' rows: the exact sequential run of the same mix" : ''}\n`);
    const ms = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
    for (const row of rec.rows) {
      const m = row.mix;
      if (!m) continue;
      const w = row.sources.length > 1 ? ` weights ${m.weights.map((x) => x.toFixed(3)).join(':')},` : '';
      if (m.mode === 'instant') console.log(`${row.label}: instant,${w} ${m.windows.join('+')} windows, ${s.variants?.some((v) => v.quantize) ? 'update' : 'mask update'} ${ms(m.updateMs ?? []).map((x) => `${x.toFixed(0)} ms`).join(', ') || '—'}`);
      else if (m.layerCodes) {
        // a quantizing method (GPTQ): the share of equal integer codes, instant vs exact
        const codes = m.layerCodes.find((x) => x !== null);
        console.log(`${row.label}: exact,${w} ${m.windows.join('+')} windows, integer codes equal to the instant model's per layer ${codes ? codes.map((x) => (x === null ? '—' : x.toFixed(3))).join(' ') : '—'}`);
      } else {
        const iou = (m.layerIou ?? []).find((x) => x !== null);
        console.log(`${row.label}: exact,${w} ${m.windows.join('+')} windows, mask IoU with the instant masks per layer ${iou ? iou.map((x) => (x === null ? '—' : x.toFixed(3))).join(' ') : '—'}`);
      }
    }
    console.log('');
  }
  if (rec.columns.some((c) => c.text)) {
    console.log('perplexity\n');
    console.log(studyMarkdown(rec, 'ppl'));
    console.log('\nbits per byte\n');
    console.log(studyMarkdown(rec, 'bpb'));
  }
  const maxTasks = Math.max(0, ...rec.columns.map((c) => c.tasks.length));
  for (let t = 0; t < maxTasks; t++) {
    console.log(`\ntask accuracy${maxTasks > 1 ? ` (task ${t + 1} of each language)` : ''}\n`);
    console.log(studyMarkdown(rec, { task: t }));
  }
  if (rec.rows.some((r) => r.size)) {
    console.log('\nsize of the exported model (weight files; pruned rows are stored dense) and the best row at each size\n');
    console.log(studySizeMarkdown(rec));
  }
  if (rec.iou.length) {
    console.log('\nmask overlap (IoU of the pruned positions, mean over layers and matrices, seed ' + s.seeds[0] + ')\n');
    for (const m of rec.iou) {
      const v = m.v.flat().filter((x): x is number => x !== null);
      console.log(`${rec.rows[m.a].label} / ${rec.rows[m.b].label}: ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(4)}`);
    }
  }
}
