// The size ladder in the page (issue 22): the built app (dist/) in headless Chromium (SwiftShader
// WebGPU, the flags of test/browser/chromium.ts), its worker engine driven through the `?test=1` hook
// (window.polyprune.engine: the same LocalEngine the page's panels call), the ladder's checkpoints served
// over HTTP with byte ranges. Per step: seconds, and the peak memory (VmHWM) of Chromium's renderer
// processes (the page and its engine worker) and of its GPU process (SwiftShader's buffers), read from
// /proc after the step. Used by ladder.mjs --page.
import { createReadStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8', '.wasm': 'application/wasm', '.txt': 'text/plain; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png' };

/** GET/HEAD of `routes` (URL prefix -> folder) with single byte ranges, uncompressed, on 127.0.0.1. */
export function serve(routes) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const prefix = Object.keys(routes).filter((p) => path.startsWith(p)).sort((a, b) => b.length - a.length)[0];
    let file = prefix === undefined ? null : resolve(routes[prefix], `.${path.slice(prefix.length - 1)}`);
    if (file && !file.startsWith(resolve(routes[prefix]) + sep) && file !== resolve(routes[prefix])) file = null;
    if (file && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const size = statSync(file).size;
    const headers = { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Accept-Ranges': 'bytes', 'Access-Control-Allow-Origin': '*' };
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      const end = Math.min(m[2] === '' ? size - 1 : Number(m[2]), size - 1);
      if (start > end) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
        return;
      }
      res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1 });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done({ url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(() => r())) })));
}

/** The pid of the Chromium browser process started with this profile folder (its cmdline names it). */
function browserPid(profile) {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes(`--user-data-dir=${profile}`) && !cmd.includes('--type=')) return Number(d);
    } catch {
      /* gone */
    }
  }
  return null;
}

/** Descendants of pid (from /proc/<p>/stat ppid fields). */
function descendants(pid) {
  const parent = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out = [];
  const walk = (p) => {
    for (const [c, pp] of parent) {
      if (pp !== p) continue;
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/**
 * Peak RSS (VmHWM) and current RSS of Chromium's renderer and GPU processes under the browser pid, and
 * of the browser process itself (it holds Blobs, such as an exported zip, until they go to disk).
 */
export function chromiumMemory(browserPid) {
  const mem = { renderer: 0, rendererNow: 0, gpu: 0, gpuNow: 0, browser: 0, browserNow: 0 };
  for (const p of [browserPid, ...descendants(browserPid)]) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      const kind = p === browserPid ? 'browser' : cmd.includes('--type=renderer') ? 'renderer' : cmd.includes('--type=gpu-process') ? 'gpu' : null;
      if (!kind) continue;
      const st = readFileSync(`/proc/${p}/status`, 'utf8');
      const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(st)?.[1] ?? 0) * 1024;
      // several renderers (the page's and extensions' or spare ones): the largest is the page's
      mem[kind] = Math.max(mem[kind], kb('VmHWM'));
      mem[`${kind}Now`] = Math.max(mem[`${kind}Now`], kb('VmRSS'));
    } catch {
      /* gone */
    }
  }
  return mem;
}

/**
 * CPU seconds used so far by the Chromium browser process and everything under it: user + system time
 * of the live processes, plus what the exited children the browser reaped had used (cutime + cstime).
 * A step's CPU seconds are the difference across it; on a shared machine they compare where wall
 * seconds do not.
 */
export function chromiumCpuSeconds(browserPid) {
  const HZ = 100; // Linux USER_HZ: /proc/<pid>/stat counts clock ticks of 1/100 s
  let ticks = 0;
  for (const [i, p] of [browserPid, ...descendants(browserPid)].entries()) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields 14-17 of stat (utime, stime, cutime, cstime) are 11-14 after the command name
      ticks += Number(f[11]) + Number(f[12]) + (i === 0 ? Number(f[13]) + Number(f[14]) : 0);
    } catch {
      /* gone */
    }
  }
  return ticks / HZ;
}

const CHROMIUM = process.env.POLYPRUNE_CHROMIUM ?? '/usr/bin/chromium';

/** Headless Chromium with a fresh profile folder and the flags of test/browser/chromium.ts (WebGPU on). */
export async function launchChromium(profile) {
  const { chromium } = await import('playwright-core');
  return chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu'] });
}

/**
 * The steps of ladder.mjs in the page for one model: made = { dir, one, name } (folders of the model and
 * its 1-layer copy); returns a row like the CLI's (steps with seconds, ok, error, renderer and GPU
 * process peaks), plus the plan's estimate.
 */
/**
 * The body of the page's onProgress (`p`: a ProgressEvent): the CLI's progress line of the events a
 * step stopped midway is told by, handed to the ladder (`window.ladderProgress`).
 */
const REPORT = `
  const line = p.kind === 'layer' ? 'layer ' + (p.layer + 1) + '/' + p.layers + ' ' + p.phase
    : p.kind === 'prune' ? 'prune ' + p.matrix + ' (' + p.done + '/' + p.total + ')'
    : p.kind === 'layerDone' ? 'layer ' + (p.layer + 1) + '/' + p.layers + ' pruned'
    : p.kind === 'eval' || p.kind === 'calibrate' ? p.kind + ' ' + p.message + ' (' + p.done + '/' + p.total + ')'
    : null;
  if (line !== null) void window.ladderProgress(line);
`;

export async function pageLadder(repo, made, name, steps, text, evalText, timeoutS, row = { steps: {} }, save = () => {}) {
  const dist = join(repo, 'dist');
  if (!existsSync(join(dist, 'index.html'))) throw new Error('Build the app first: npm run build');
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (set POLYPRUNE_CHROMIUM)`);
  const server = await serve({ '/': dist, '/ladder-model/': made.dir, '/ladder-model-1layer/': made.one });
  const profile = mkdtempSync(join(tmpdir(), 'polyprune-ladder-chromium-'));
  const browser = await launchChromium(profile);
  const pid = browserPid(profile);
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(timeoutS * 1000);
    // The engine's progress (layer, matrix, evaluation) as the CLI prints it, with the step's second it
    // came at: printed as it comes and kept in the step's record, so a step given up at its timeout
    // says how far it got. Called from the page while a step's evaluate is still running.
    let progress = [];
    let stepT0 = performance.now();
    let stepKey = '';
    await page.exposeFunction('ladderProgress', (line) => {
      const t = +((performance.now() - stepT0) / 1000).toFixed(1);
      if (progress.at(-1)?.[1] === line) return;
      progress.push([t, line]);
      if (progress.length > 400) progress.splice(0, progress.length - 200);
      process.stderr.write(`[ladder] ${name} (page): ${stepKey} ${t} s: ${line}\n`);
    });
    // autoload=0: the engine holds only the ladder's models (not the bundled one the page loads by itself)
    // opening the app is not a step: not bounded by --timeout-s (the default timeout set above)
    await page.goto(`${server.url}/?test=1&autoload=0`, { timeout: 120_000 });
    await page.waitForFunction(() => window.polyprune?.engine !== undefined, undefined, { timeout: 120_000 });
    row.adapter = await page.evaluate(async () => (await window.polyprune.engine.gpuInfo()).description);
    const spec = (one) => ({ kind: 'url', url: `${server.url}/ladder-model${one ? '-1layer' : ''}/`, name });
    const calib = { texts: [{ name: 'en.txt', text }], nsamples: 4, seqlen: 128, seed: 0 };
    const ids = {};
    // page.evaluate has no timeout of its own: a step that runs past --timeout-s is given up, and the
    // steps after it are not run (the page is still busy with it until the browser is closed)
    let stuck = null;
    const withinTimeout = (p, key) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          stuck = key;
          reject(new Error(`did not finish within --timeout-s ${timeoutS} s`));
        }, timeoutS * 1000);
        p.then(
          (v) => (clearTimeout(timer), resolve(v)),
          (e) => (clearTimeout(timer), reject(e)),
        );
      });
    const step = async (key, fn) => {
      if (!steps.includes(key)) return (row.steps[key] = { skipped: true });
      if (stuck) return (row.steps[key] = { skipped: true, reason: `not run: ${stuck} did not finish within --timeout-s` });
      process.stderr.write(`[ladder] ${name} (page): ${key}\n`);
      const t0 = performance.now();
      [progress, stepT0, stepKey] = [[], t0, key];
      const cpu0 = pid ? chromiumCpuSeconds(pid) : null;
      const s = {};
      try {
        s.result = await withinTimeout(fn(), key);
        s.ok = true;
      } catch (e) {
        s.ok = false;
        s.error = String(e?.message ?? e).split('\n')[0];
        if (stuck === key) {
          s.timedOut = true;
          const last = progress.at(-1);
          if (last) s.error += ` (last progress at ${last[0]} s: ${last[1]})`;
        }
      }
      if (progress.length) s.progress = progress.slice(-40);
      s.seconds = +((performance.now() - t0) / 1000).toFixed(2);
      if (cpu0 !== null) s.cpuSeconds = +(chromiumCpuSeconds(pid) - cpu0).toFixed(1);
      const m = pid ? chromiumMemory(pid) : {};
      Object.assign(s, { rendererPeakBytes: m.renderer ?? null, gpuProcessPeakBytes: m.gpu ?? null, browserPeakBytes: m.browser ?? null, rendererBytes: m.rendererNow ?? null, gpuProcessBytes: m.gpuNow ?? null, browserBytes: m.browserNow ?? null });
      row.steps[key] = s;
      save();
      return s;
    };
    const plan = await step('plan', () => page.evaluate(async ({ spec }) => {
      const p = await window.polyprune.engine.plan(spec, { method: 'wanda', nsamples: 4, seqlen: 128 });
      return { gpuPeakBytes: p.gpuPeakBytes, weightBytes: p.weightBytes, f32WeightBytes: p.f32WeightBytes, loadHostBytes: p.loadHostBytes, packed: p.packed, resident: p.resident, problems: p.problems };
    }, { spec: spec(false) }));
    if (plan.ok) row.plan = plan.result;
    delete plan.result;
    if (!plan.ok || row.plan.problems.length) {
      row.refused = plan.error ?? row.plan.problems.join(' ');
      return row;
    }
    const load = await step('load', () => page.evaluate(async ({ spec }) => (await window.polyprune.engine.loadModel(spec)).id, { spec: spec(false) }));
    if (load.ok) ids.model = load.result;
    delete load.result;
    const ppl = await step('ppl', () => page.evaluate(async ({ id, text, report }) => (await window.polyprune.engine.perplexity(id, { text, seqlen: 128, maxWindows: 2 }, { onProgress: new Function('p', report) })).ppl, { id: ids.model, text: evalText, report: REPORT }));
    if (ppl.ok) row.ppl = ppl.result;
    delete ppl.result;
    const prune = async (id, method) => page.evaluate(async ({ id, method, calib, report }) => {
      const e = window.polyprune.engine;
      const r = await e.prune(id, { method, sparsity: 0.5, calibration: calib }, { onProgress: new Function('p', report) });
      await e.unloadModel(r.model.id);
      return { ms: r.report.timings.totalMs, peak: r.report.peakGpuBytes ?? null };
    }, { id, method, calib, report: REPORT });
    const w = await step('wanda', () => prune(ids.model, 'wanda'));
    if (w.ok) Object.assign(w, { pruneSeconds: +(w.result.ms / 1000).toFixed(2), gpuPeakBytes: w.result.peak });
    delete w.result;
    // the SparseGPT step's own plan (its 1-layer copy, written only for that step), what that step's
    // peak is measured against: made just before it, so what the engine holds by then (the model of
    // the load step) counts as already on the GPU, as it does in the step's peak (headers only)
    if (steps.includes('sparsegpt') && !stuck) {
      try {
        row.planSparsegpt = await page.evaluate(async ({ spec }) => ({ gpuPeakBytes: (await window.polyprune.engine.plan(spec, { method: 'sparsegpt', nsamples: 4, seqlen: 128 })).gpuPeakBytes }), { spec: spec(true) });
      } catch (e) {
        row.planSparsegpt = { error: String(e?.message ?? e).split('\n')[0] };
      }
    }
    const sg = await step('sparsegpt', async () => {
      const one = await page.evaluate(async ({ spec }) => (await window.polyprune.engine.loadModel(spec)).id, { spec: spec(true) });
      try {
        return await prune(one, 'sparsegpt');
      } finally {
        await page.evaluate(async (id) => window.polyprune.engine.unloadModel(id), one);
      }
    });
    if (sg.ok) Object.assign(sg, { pruneSeconds: +(sg.result.ms / 1000).toFixed(2), gpuPeakBytes: sg.result.peak });
    delete sg.result;
    const ex = await step('export', () => page.evaluate(async (id) => (await window.polyprune.engine.exportZip(id, { format: 'hf' })).size, ids.model));
    if (ex.ok) ex.zipBytes = ex.result;
    delete ex.result;
    const onnx = await step('onnx', () => page.evaluate(async (id) => (await window.polyprune.engine.exportZip(id, { format: 'onnx', onnxVariants: ['fp16'] })).size, ids.model));
    if (onnx.ok) onnx.zipBytes = onnx.result;
    delete onnx.result;
    return row;
  } finally {
    await browser.close().catch(() => undefined);
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
