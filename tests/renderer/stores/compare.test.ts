import { describe, expect, it } from 'vitest';
import { defaultPair, formatPair, parsePair, parseSource, runSource, TRUTH } from '../../../src-renderer/src/stores/compare';

describe('compare mode sources', () => {
  it('reads back what it writes into the address, and nothing else', () => {
    const pair = [TRUTH, runSource('2026-11-27_unet.v2')] as const;
    expect(formatPair([...pair])).toBe('truth,run:2026-11-27_unet.v2');
    expect(parsePair('truth,run:2026-11-27_unet.v2')).toEqual(pair);
    expect(parsePair('run:a,run:b')).toEqual([runSource('a'), runSource('b')]);
    // Not two sources, or a run id that could leave the runs folder: ignored, the single view stays.
    for (const bad of ['', 'truth', 'truth,run:a,run:b', 'truth,run:..', 'truth,run:a/b', 'truth,a', 'truth,run:']) expect(parsePair(bad)).toBeNull();
    expect(parseSource('run:.')).toBeNull();
  });

  it('opens on the chosen run against a second run, or the truth against the only run', () => {
    expect(defaultPair(['r2', 'r1'], null)).toEqual([runSource('r2'), runSource('r1')]);
    expect(defaultPair(['r2', 'r1'], 'r1')).toEqual([runSource('r1'), runSource('r2')]);
    expect(defaultPair(['r1'], null)).toEqual([TRUTH, runSource('r1')]);
    expect(defaultPair(['r1'], 'r1')).toEqual([TRUTH, runSource('r1')]);
    expect(defaultPair([], null)).toEqual([TRUTH, TRUTH]);
  });
});
