// SPDX-License-Identifier: Apache-2.0
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';

// The daemon serves dist/ at "/" and its assets under /assets/, with an SPA
// fallback to index.html. `npm run dev` proxies the API to a local daemon.
export default defineConfig({
  base: '/',
  plugins: [react(), tailwindcss()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: {
      '/api': { target: process.env.STOREAGENT_URL || 'http://127.0.0.1:18080', changeOrigin: false },
    },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.js'],
    include: ['src/**/*.test.{js,jsx}'],
    css: false,
    restoreMocks: true,
    testTimeout: 20000,
    reporters: ['default', './src/test/summary-reporter.js'],
  },
});
