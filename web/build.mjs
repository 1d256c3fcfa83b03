// Builds the chat page into dist/static/: app.js (one ES module), app.css and the icon.
// Usage: node build.mjs [--watch]
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist', 'static');
mkdirSync(out, { recursive: true });
cpSync(join(here, 'public'), out, { recursive: true });

const options = {
  entryPoints: { app: join(here, 'src', 'main.tsx') }, // imports app.css → app.css
  outdir: out,
  entryNames: '[name]',
  bundle: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15.4'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'info',
};

if (process.argv.includes('--watch')) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
