import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The operations console, built into console/dist and served by OrderStream at /console
 * (docs/decisions/0027-operations-console.md). The build must hold no inline script or style, as the
 * page's content policy allows neither: no inlined assets, no module-preload polyfill.
 */
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  // `npx vite console` for work on the page itself, against `npm start` on its default port.
  server: { proxy: { '/v1': 'http://127.0.0.1:8080' } },
});
