// Bundles the client (OpenLayers included) into client.js and client.css
// and copies the page beside them:
//   node build.mjs [outdir]   (default ../../pkg/webclient/dist)
import {copyFile, mkdir} from 'node:fs/promises';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {build} from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(process.argv[2] || resolve(here, '../../pkg/webclient/dist'));
await mkdir(outdir, {recursive: true});
await build({
  absWorkingDir: here,
  entryPoints: {client: 'src/main.js'},
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  outdir,
  logLevel: 'warning',
});
await copyFile(resolve(here, 'index.html'), resolve(outdir, 'index.html'));
