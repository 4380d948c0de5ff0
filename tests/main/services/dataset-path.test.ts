import { describe, expect, it } from 'vitest';
import { normaliseDatasetPath } from '../../../src-main/services/dataset-path';

describe('normaliseDatasetPath', () => {
  it('trims pasted spaces and reads a leading ~ as the home folder', () => {
    expect(normaliseDatasetPath('  /data/ct \n', '/home/ana')).toBe('/data/ct');
    expect(normaliseDatasetPath('~', '/home/ana')).toBe('/home/ana');
    expect(normaliseDatasetPath('~/scans/covid', '/home/ana')).toBe('/home/ana/scans/covid');
    // Only a leading ~/ is the home: a folder named like ~x is left as typed.
    expect(normaliseDatasetPath('/data/~x', '/home/ana')).toBe('/data/~x');
  });

  it('says plainly that no folder was given', () => {
    expect(() => normaliseDatasetPath('   ')).toThrow(/no folder given/);
  });
});
