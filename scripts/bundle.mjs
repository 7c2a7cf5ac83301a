// Bundles the compiled CLI (dist/) and its production dependencies into one tree-shaken ES module,
// bundle/main.mjs, which is all the image carries besides the Node runtime: node_modules of
// @kubernetes/client-node and friends weigh about 70 MB, the bundle under 3 MB. Licence texts of the
// bundled packages go to bundle/main.mjs.LEGAL.txt (shipped beside it).
// Run with `npm run bundle` (compiles first). esbuild's own binary comes from its platform package
// (@esbuild/<os>-<arch>), so its install script is not needed.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

// The bundle ships without package.json: `version` reads the version written in here (src/cli/version.ts).
const version = /^ {2}"version": "([^"]+)"/m.exec(readFileSync('package.json', 'utf8'))?.[1] ?? 'unknown';

// Some bundled packages are CommonJS and call require(): give the ES module one. And node-fetch (under
// @kubernetes/client-node) calls url.parse(): Node shows its deprecation (DEP0169) only for code outside
// node_modules, which bundled code is, so the bundle drops that one warning, as Node would unbundled.
const banner = [
  "import { createRequire as lcrCreateRequire } from 'node:module';",
  'const require = lcrCreateRequire(import.meta.url);',
  '{ const emit = process.emitWarning; process.emitWarning = function (warning, ...rest) {',
  "  const code = typeof rest[0] === 'object' && rest[0] !== null ? rest[0].code : rest[1];",
  "  if (code === 'DEP0169') return; return emit.call(process, warning, ...rest); }; }",
].join('\n');

const result = await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'bundle/main.mjs',
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
const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
console.log(`bundle/main.mjs: ${(bytes / 1024 / 1024).toFixed(2)} MiB`);
