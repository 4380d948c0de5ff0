import * as tf from '@tensorflow/tfjs-core';
import type { GanKind } from '../../../src-shared/contract/gan-pairs';
import { createRandom } from '../random/seeded-random';
import { createParamStore, type ParamStore } from './network/params';
import { sampleSeed, type Net } from './network/ops';
import { dropoutMasks, levelsFor, unetGenerator, type GeneratorShape } from './network/unet-generator';
import { patchDiscriminator } from './network/patch-discriminator';

/** What a GAN kind is made of, as its training loop and generator use it. */
export interface GanNetworks {
  kind: GanKind;
  g: Net;
  d: Net;
  /** Weight of the L1 reconstruction term in the generator loss (pix2pix 100; DAGAN 0). */
  l1Weight: number;
  /** Needs a real reference image besides the mask (DAGAN). */
  usesReference: boolean;
  /**
   * Generated images `[b, s, s, 1]` in -1..1 for condition planes `[b, s, s, p]`; `seed` fixes the
   * noise, drawn per sample: the first row is sample `firstSample` of its batch (see sampleSeed).
   */
  generate(condition: tf.Tensor4D, reference: tf.Tensor4D | undefined, seed: number, firstSample?: number): tf.Tensor4D;
  /** Patch logits for a candidate image given the condition (and the reference, DAGAN). */
  discriminate(condition: tf.Tensor4D, reference: tf.Tensor4D | undefined, candidate: tf.Tensor4D): tf.Tensor4D;
  dispose(): void;
}

export interface NetworkOptions {
  kind: GanKind;
  size: number;
  /** Condition planes: 1 (any lesion) or 2 (ground-glass, consolidation). */
  planes: number;
  generatorFilters: number;
  discriminatorFilters: number;
  seed: number;
}

/** Noise planes DAGAN concatenates to its bottleneck. */
const DAGAN_NOISE_CHANNELS = 8;

/** DAGAN's bottleneck noise `[count, side, side, 8]`, one seeded draw per sample (see sampleSeed). */
function daganNoise(count: number, side: number, seed: number, firstSample: number): tf.Tensor4D {
  const draws = Array.from({ length: count }, (_, j) =>
    // tfjs seeds a normal draw from Math.random when the seed is 0: -1 keeps seed 0 reproducible too.
    tf.randomNormal<tf.Rank.R4>([1, side, side, DAGAN_NOISE_CHANNELS], 0, 1, 'float32', sampleSeed(seed, firstSample + j) || -1),
  );
  return draws.length === 1 ? draws[0]! : tf.concat4d(draws, 0);
}

/**
 * Builds a GAN's two networks with seeded weights; one dry forward pass creates every variable, so
 * the training step can hand complete weight lists to the gradient computation.
 */
export function createGanNetworks(options: NetworkOptions): GanNetworks {
  const root = createRandom(options.seed).fork(`gan ${options.kind}`);
  const gStore: ParamStore = createParamStore();
  const dStore: ParamStore = createParamStore();
  const g: Net = { store: gStore, random: root.fork('generator') };
  const dagan = options.kind === 'dagan';
  // DAGAN's discriminator is spectrally normalised (Antoniou et al. 2017 follow Miyato et al.).
  const d: Net = { store: dStore, random: root.fork('discriminator'), spectral: dagan };
  const shape: GeneratorShape = { levels: levelsFor(options.size), filters: options.generatorFilters };
  const bottleneck = options.size / 2 ** shape.levels;
  const networks: GanNetworks = {
    kind: options.kind,
    g,
    d,
    l1Weight: dagan ? 0 : 100,
    usesReference: dagan,
    generate: (condition, reference, seed, firstSample = 0) =>
      dagan
        ? unetGenerator(g, tf.concat([reference!, condition], 3), shape, { noise: daganNoise(condition.shape[0], bottleneck, seed, firstSample) })
        : unetGenerator(g, condition, shape, { dropout: dropoutMasks(seed, firstSample) }),
    discriminate: (condition, reference, candidate) => patchDiscriminator(d, tf.concat(dagan ? [reference!, condition, candidate] : [condition, candidate], 3), options.discriminatorFilters),
    dispose: () => {
      gStore.dispose();
      dStore.dispose();
    },
  };
  tf.tidy(() => {
    const condition = tf.zeros([1, options.size, options.size, options.planes]) as tf.Tensor4D;
    const reference = dagan ? (tf.zeros([1, options.size, options.size, 1]) as tf.Tensor4D) : undefined;
    networks.discriminate(condition, reference, networks.generate(condition, reference, 0));
  });
  return networks;
}
