import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

// Layer boundaries (STYLE.md): each layer imports only the layers before it. Checked on resolved
// paths (eslint-plugin-import-x no-restricted-paths), so `../../src/gpu/x`, `../engine/../gpu/x` and
// dynamic import() are caught like any other import.
const layers = [
  ['src/common', []],
  ['src/gpu', ['src/common']],
  ['src/io', ['src/common']],
  ['src/model', ['src/common', 'src/gpu', 'src/io']],
  ['src/calib', ['src/common', 'src/gpu', 'src/io', 'src/model']],
  ['src/prune', ['src/common', 'src/gpu', 'src/io', 'src/model', 'src/calib']],
  ['src/eval', ['src/common', 'src/gpu', 'src/io', 'src/model']],
  ['src/export', ['src/common', 'src/gpu', 'src/io', 'src/model', 'src/calib', 'src/prune', 'src/eval']],
  ['src/engine', ['src/common', 'src/gpu', 'src/io', 'src/model', 'src/calib', 'src/prune', 'src/eval', 'src/export']],
  // The experiment layer sits above the engine: it drives any Engine with the engine's own request types.
  ['src/experiment', ['src/common', 'src/gpu', 'src/io', 'src/model', 'src/calib', 'src/prune', 'src/eval', 'src/export', 'src/engine']],
  // The front ends: the engine's door, common, and the CPU-only layers they truly need (experiment
  // records and runs, calibration text, task formats); never the GPU, model or pruning code.
  ['src/ui', ['src/common', 'src/engine', 'src/eval', 'src/experiment', 'src/calib']],
  ['src/cli', ['src/common', 'src/engine', 'src/gpu', 'src/io', 'src/eval', 'src/export', 'src/experiment', 'src/calib']],
];
const all = layers.map(([l]) => l);
/** The engine files a front end may import (relative to src/engine). */
const doors = { 'src/ui': ['./index.ts'], 'src/cli': ['./index.ts', './local.ts'] };

export default tseslint.config(
  { ignores: ['dist/**', 'dist-cli/**', 'dist-bench/**', 'dist-bench-page/**', 'node_modules/**', 'tools/**/work/**', 'public/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'] })] },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: layers.flatMap(([layer, allowed]) => [
            ...all
              .filter((l) => l !== layer && !allowed.includes(l))
              .map((l) => ({ target: `./${layer}`, from: `./${l}`, message: `${layer} must not import ${l} (layer order, see STYLE.md).` })),
            // The front ends reach the engine only through its doors (src/engine/index.ts; the CLI also
            // src/engine/local.ts, the in-thread engine that the page must not bundle).
            ...(doors[layer] ? [{ target: `./${layer}`, from: './src/engine', except: doors[layer], message: `${layer} imports the engine only through ${doors[layer].map((d) => `src/engine/${d.slice(2)}`).join(' or ')}.` }] : []),
            // The CLI takes one file of src/gpu: the Node adapter (Dawn).
            ...(layer === 'src/cli' ? [{ target: './src/cli', from: './src/gpu', except: ['./node.ts'], message: 'src/cli takes only src/gpu/node.ts (the Dawn adapter); the rest of the GPU code is reached through the engine.' }] : []),
          ]),
        },
      ],
    },
  },
);
