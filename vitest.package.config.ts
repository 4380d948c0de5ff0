import { defineConfig } from 'vitest/config';

// `npm run test:package`: packs the project, installs the tarball into a temporary folder and runs the
// installed `covseg` with plain Node. Kept out of `npm test`: the install alone takes minutes here.
export default defineConfig({
  test: {
    include: ['tests/package/**/*.pkg.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 900_000,
    hookTimeout: 900_000,
  },
});
