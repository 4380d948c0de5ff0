import { describe, expect, it } from 'vitest';
import { createRandom } from '../../../../src-main/engine/random/seeded-random';

describe('seeded random', () => {
  it('repeats for a seed, differs across seeds, and resumes from saved state', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const first = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(first);
    expect(createRandom(43).next()).not.toBe(first[0]);
    const saved = a.state();
    const next = a.next();
    expect(createRandom(0, saved).next()).toBe(next);
  });

  it('draws uniform values in range with the right mean, and normals with unit variance', () => {
    const r = createRandom(1);
    const n = 20000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      sum += u;
      const z = r.normal();
      sq += z * z;
    }
    expect(sum / n).toBeCloseTo(0.5, 1);
    expect(sq / n).toBeCloseTo(1, 1);
  });

  it('forks independent streams by label', () => {
    const a = createRandom(5).fork('x').next();
    expect(createRandom(5).fork('x').next()).toBe(a);
    expect(createRandom(5).fork('y').next()).not.toBe(a);
  });
});
