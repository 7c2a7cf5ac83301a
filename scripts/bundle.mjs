// Bundles the compiled CLI (dist/) and its production dependencies into tree-shaken ES modules under
// bundle/, which is all the image carries besides the Node runtime: node_modules of
// @kubernetes/client-node and friends weigh about 70 MB, the bundle under 3 MB. The entry is
// bundle/main.mjs; code splitting keeps what src/cli/main.ts imports only after parsing (client-node,
// the commands, the logger) in chunks of their own (bundle/chunks/), so `--help` and `--version`
// compile and run a small entry instead of the whole 2.6 MB (see docs/benchmarks.md, start-up).
// Licence texts of the bundled packages go to bundle/main.mjs.LEGAL.txt (shipped beside it).
// Run with `npm run bundle` (compiles first). esbuild's own binary comes from its platform package
// (@esbuild/<os>-<arch>), so its install script is not needed.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

// The bundle ships without package.json: `version` reads the version written in here (src/cli/version.ts).
const version = /^ {2}"version": "([^"]+)"/m.exec(readFileSync('package.json', 'utf8'))?.[1] ?? 'unknown';

// Some bundled packages are CommonJS and call require(): give each ES module of the bundle one. And
// node-fetch (under @kubernetes/client-node) and prom-client's Pushgateway client call url.parse(): Node shows its deprecation (DEP0169) only
// for code outside node_modules, which bundled code is, so the bundle drops that one warning, as Node
// would unbundled. The banner heads every output file: the filter is installed once per process.
const banner = [
  "import { createRequire as lcrCreateRequire } from 'node:module';",
  'const require = lcrCreateRequire(import.meta.url);',
  'if (!process.emitWarning.lcrFiltered) { const emit = process.emitWarning; process.emitWarning = Object.assign(function (warning, ...rest) {',
  "  const code = typeof rest[0] === 'object' && rest[0] !== null ? rest[0].code : rest[1];",
  "  if (code === 'DEP0169') return; return emit.call(process, warning, ...rest); }, { lcrFiltered: true }); }",
].join('\n');

// Chunk names carry content hashes: start from an empty folder so that no stale chunk is shipped.
rmSync('bundle', { recursive: true, force: true });
const result = await build({
  entryPoints: ['dist/cli/main.js'],
  outdir: 'bundle',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  legalComments: 'external',
  metafile: true,
  logLevel: 'warning',
  // tr46 (under node-fetch) asks for the deprecated core punycode module; the npm package of the same
  // code is installed: use it.
  alias: { punycode: 'punycode/' },
  banner: { js: banner },
  define: { 'process.env.LCR_BUNDLED_VERSION': JSON.stringify(version) },
});
// esbuild writes the licence texts beside each output file that bundles some: ship them as one file.
const legal = Object.keys(result.metafile.outputs).filter((file) => file.endsWith('.LEGAL.txt'));
const texts = legal.sort().map((file) => readFileSync(file, 'utf8').trimEnd());
for (const file of legal) rmSync(file);
writeFileSync('bundle/main.mjs.LEGAL.txt', `${texts.join('\n\n')}\n`);
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => !file.endsWith('.LEGAL.txt'));
const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
const entry = result.metafile.outputs['bundle/main.mjs']?.bytes ?? 0;
console.log(
  `bundle/: ${(bytes / 1024 / 1024).toFixed(2)} MiB in ${outputs.length} modules and a licence file (entry bundle/main.mjs ${(entry / 1024).toFixed(0)} KiB)`,
);
