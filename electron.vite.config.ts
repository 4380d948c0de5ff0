import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';
import type { Plugin } from 'vite';
import { contentSecurityPolicy } from './src-shared/content-security-policy';

const root = dirname(fileURLToPath(import.meta.url));

/** Writes the one Content-Security-Policy into index.html; the dev server's injected styles need inline styles. */
function contentSecurityPolicyMeta(): Plugin {
  return {
    name: 'covseg-content-security-policy',
    transformIndexHtml: (html, context) => html.replace('__CONTENT_SECURITY_POLICY__', contentSecurityPolicy({ delivery: 'meta', dev: context.server !== undefined })),
  };
}

// electron-vite looks for src/main by default; this project keeps each process in its own top-level folder.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        // The Lab's worker thread is its own entry, started from next to index.js (start-worker.ts).
        input: { index: resolve(root, 'src-main/index.ts'), 'augment-lab-worker': resolve(root, 'src-main/services/augment-lab-worker.ts') },
        // Native and wasm packages are loaded from node_modules at run time, never bundled.
        external: ['sharp', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', 'webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload can require nothing but electron: bundle its dependencies (zod).
      externalizeDeps: false,
      // A sandboxed preload cannot be an ES module.
      rollupOptions: { input: { index: resolve(root, 'src-preload/index.ts') }, output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    // Relative asset paths: the same build loads from app:// in Electron and over HTTP from `covseg serve`.
    base: './',
    plugins: [vue(), contentSecurityPolicyMeta()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      rollupOptions: { input: { index: resolve(root, 'src-renderer/index.html') } },
    },
  },
});
