import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Layer boundaries (STYLE.md): each layer imports only the layers before it.
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
  ['src/ui', ['src/common', 'src/engine', 'src/eval', 'src/experiment', 'src/calib']],
  ['src/cli', ['src/common', 'src/engine', 'src/gpu', 'src/io', 'src/eval', 'src/export', 'src/experiment', 'src/calib']],
];
const all = layers.map(([l]) => l);

export default tseslint.config(
  { ignores: ['dist/**', 'dist-cli/**', 'dist-bench/**', 'node_modules/**', 'tools/**/work/**', 'public/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  ...layers.map(([layer, allowed]) => ({
    files: [`${layer}/**/*.{ts,tsx}`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: all
            .filter((l) => l !== layer && !allowed.includes(l))
            .map((l) => ({ regex: `^(\\.\\./)+${l.replace('src/', '')}(/|$)`, message: `${layer} must not import ${l} (layer order, see STYLE.md).` })),
        },
      ],
    },
  })),
);
