/**
 * Seeded pseudo-random numbers. Every random choice in the engine draws from one of these, never from
 * `Math.random`, so that the same configuration gives the same result.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  uniform(min: number, max: number): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** Fisher–Yates shuffle of a copy. */
  shuffle<T>(items: readonly T[]): T[];
  /** An independent stream derived from this one and a label, so adding draws elsewhere does not shift it. */
  fork(label: string): Random;
  /** Internal state, to save and restore a stream (checkpoints). */
  state(): number[];
}

function hashString(text: string): number {
  // FNV-1a: a cheap, stable way to turn a label into 32 bits.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Creates a generator (sfc32, seeded through splitmix32) from an integer seed or saved state. */
export function createRandom(seed: number | string, saved?: readonly number[]): Random {
  const numericSeed = typeof seed === 'string' ? hashString(seed) : seed;
  const init = splitmix32(numericSeed);
  let [a, b, c, d] = saved && saved.length === 4 ? saved.map((v) => v >>> 0) : [init(), init(), init(), init()];
  if (!saved) for (let i = 0; i < 12; i++) step();

  function step(): number {
    const t = (((a! + b!) >>> 0) + d!) >>> 0;
    d = (d! + 1) >>> 0;
    a = b! ^ (b! >>> 9);
    b = (c! + (c! << 3)) >>> 0;
    c = ((c! << 21) | (c! >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  }

  let spareNormal: number | undefined;
  const random: Random = {
    next: () => step() / 4294967296,
    uniform: (min, max) => min + (max - min) * random.next(),
    int: (n) => Math.floor(random.next() * n),
    normal: () => {
      if (spareNormal !== undefined) {
        const value = spareNormal;
        spareNormal = undefined;
        return value;
      }
      let u = 0;
      while (u === 0) u = random.next();
      const v = random.next();
      const r = Math.sqrt(-2 * Math.log(u));
      spareNormal = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    chance: (p) => random.next() < p,
    shuffle: (items) => {
      const out = items.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = random.int(i + 1);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
    fork: (label) => createRandom((hashString(label) ^ step()) >>> 0),
    state: () => [a!, b!, c!, d!],
  };
  return random;
}
