import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { SeededDraws } from '../random-draws';
import { bilinearUpsample } from './bilinear-upsample';

type Initializer = ReturnType<typeof tfl.initializers.zeros>;
type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
type Kwargs = Record<string, unknown>;
type Shape = (number | null)[];

const LAYER_NORM_EPSILON = 1e-5;

function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

function singleShape(shape: Shape | Shape[]): Shape {
  return Array.isArray(shape[0]) ? (shape[0] as Shape) : (shape as Shape);
}

function truncatedNormal(seed: number): Initializer {
  return tfl.initializers.truncatedNormal({ stddev: 0.02, seed });
}

/**
 * LayerNorm over the last axis (eps 1e-5, PyTorch's default) with its gradient written out
 * (Ba et al. 2016): `dx = rstd * (g - mean(g) - xhat * mean(g * xhat))` with `g = dy * gamma`.
 * Autodiff through `tf.moments` takes three times the kernels, and tfjs-layers' LayerNormalization
 * tiles gamma and beta to the input's shape, whose Tile gradient is one Slice per pixel.
 */
export function layerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor): T {
  const channels = x.shape[x.shape.length - 1]!;
  const rows = x.size / channels;
  const norm = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, scale, shift, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const flat = tf.reshape(input, [rows, channels]);
    const { mean, variance } = tf.moments(flat, -1, true);
    const rstd = tf.rsqrt(tf.add(variance, LAYER_NORM_EPSILON));
    const normalized = tf.mul(tf.sub(flat, mean), rstd);
    save([normalized, rstd, scale]);
    return {
      value: tf.reshape(tf.add(tf.mul(normalized, scale), shift), input.shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xhat, inverse, g] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const dyFlat = tf.reshape(dy, [rows, channels]);
        const scaled = tf.mul(dyFlat, g);
        const dx = tf.mul(inverse, tf.sub(tf.sub(scaled, tf.mean(scaled, -1, true)), tf.mul(xhat, tf.mean(tf.mul(scaled, xhat), -1, true))));
        return [tf.reshape(dx, dy.shape), tf.sum(tf.mul(dyFlat, xhat), 0), tf.sum(dyFlat, 0)];
      },
    };
  });
  return norm(x, gamma, beta) as T;
}

export interface TokenLayerNormArgs extends LayerArgs {
  channels: number;
}

/** LayerNorm over channels of `[batch, height, width, channels]`; see {@link layerNorm}. */
export class TokenLayerNorm extends tfl.layers.Layer {
  static className = 'SegformerLayerNorm';
  readonly channels: number;
  private gamma?: tfl.LayerVariable;
  private beta?: tfl.LayerVariable;

  constructor(args: TokenLayerNormArgs) {
    super(args);
    this.channels = args.channels;
  }

  override build(): void {
    this.gamma = this.addWeight('gamma', [this.channels], 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', [this.channels], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => layerNorm(single(inputs), this.gamma!.read(), this.beta!.read()));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), channels: this.channels };
  }
}

/** `x [rows, in] @ kernel [in, out] + bias`. */
function linear(x: tf.Tensor2D, kernel: tfl.LayerVariable, bias: tfl.LayerVariable): tf.Tensor2D {
  return tf.add(tf.matMul(x, kernel.read() as tf.Tensor2D), bias.read());
}

/** Exact GELU, `x * Phi(x)` with the normal CDF through erf (PyTorch's default `nn.GELU`). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

export interface EfficientAttentionArgs extends LayerArgs {
  channels: number;
  heads: number;
  /** Sequence-reduction ratio R: keys and values come from an R x R strided convolution of the input. */
  reduction: number;
  seed: number;
}

/**
 * Efficient self-attention of the Mix Transformer (Xie et al. 2021, SegFormer, eq. 2): queries from
 * every token; keys and values from the token map shrunk by an R x R stride-R convolution and a
 * LayerNorm, so the cost is N * N / R^2. Input and output `[batch, height, width, channels]`.
 */
export class EfficientAttention extends tfl.layers.Layer {
  static className = 'SegformerEfficientAttention';
  readonly channels: number;
  readonly heads: number;
  readonly reduction: number;
  readonly seed: number;
  private weightsByName: Record<string, tfl.LayerVariable> = {};

  constructor(args: EfficientAttentionArgs) {
    super(args);
    this.channels = args.channels;
    this.heads = args.heads;
    this.reduction = args.reduction;
    this.seed = args.seed;
  }

  override build(): void {
    const c = this.channels;
    let seed = this.seed;
    const add = (name: string, shape: number[], init: Initializer) => {
      this.weightsByName[name] = this.addWeight(name, shape, 'float32', init);
    };
    for (const name of ['query', 'key', 'value']) {
      add(`${name}_kernel`, [c, c], truncatedNormal(seed++));
      add(`${name}_bias`, [c], tfl.initializers.zeros());
    }
    if (this.reduction > 1) {
      const r = this.reduction;
      add('sr_kernel', [r, r, c, c], tfl.initializers.randomNormal({ stddev: Math.sqrt(2 / (r * r * c)), seed: seed++ }));
      add('sr_bias', [c], tfl.initializers.zeros());
      add('sr_gamma', [c], tfl.initializers.ones());
      add('sr_beta', [c], tfl.initializers.zeros());
    }
    add('output_kernel', [c, c], truncatedNormal(seed++));
    add('output_bias', [c], tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs) as tf.Tensor4D;
      const w = this.weightsByName;
      const [batch, height, width, c] = x.shape;
      const n = height * width;
      const heads = this.heads;
      const depth = c / heads;
      const tokens = tf.reshape(x, [batch * n, c]) as tf.Tensor2D;
      let context: tf.Tensor2D = tokens;
      let m = n;
      if (this.reduction > 1) {
        const reduced = tf.add(tf.conv2d(x, w.sr_kernel!.read() as tf.Tensor4D, this.reduction, 'valid'), w.sr_bias!.read()) as tf.Tensor4D;
        m = reduced.shape[1] * reduced.shape[2];
        context = layerNorm(tf.reshape(reduced, [batch * m, c]), w.sr_gamma!.read(), w.sr_beta!.read());
      }
      // [batch * tokens, c] -> [batch * heads, tokens, depth]
      const split = (t: tf.Tensor2D, count: number) =>
        heads === 1 ? tf.reshape(t, [batch, count, depth]) : tf.reshape(tf.transpose(tf.reshape(t, [batch, count, heads, depth]), [0, 2, 1, 3]), [batch * heads, count, depth]);
      const q = split(linear(tokens, w.query_kernel!, w.query_bias!), n);
      const k = split(linear(context, w.key_kernel!, w.key_bias!), m);
      const v = split(linear(context, w.value_kernel!, w.value_bias!), m);
      const probabilities = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(depth)));
      const attended = tf.matMul(probabilities, v);
      const merged = heads === 1 ? tf.reshape(attended, [batch * n, c]) : tf.reshape(tf.transpose(tf.reshape(attended, [batch, heads, n, depth]), [0, 2, 1, 3]), [batch * n, c]);
      return tf.reshape(linear(merged as tf.Tensor2D, w.output_kernel!, w.output_bias!), [batch, height, width, c]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), channels: this.channels, heads: this.heads, reduction: this.reduction, seed: this.seed };
  }
}

export interface MixFfnArgs extends LayerArgs {
  channels: number;
  hidden: number;
  seed: number;
}

/**
 * Mix-FFN (SegFormer, eq. 3): linear to `hidden`, 3x3 depthwise convolution (the positional
 * information the encoder has instead of position embeddings), GELU, linear back.
 * Input and output `[batch, height, width, channels]`.
 */
export class MixFfn extends tfl.layers.Layer {
  static className = 'SegformerMixFfn';
  readonly channels: number;
  readonly hidden: number;
  readonly seed: number;
  private weightsByName: Record<string, tfl.LayerVariable> = {};

  constructor(args: MixFfnArgs) {
    super(args);
    this.channels = args.channels;
    this.hidden = args.hidden;
    this.seed = args.seed;
  }

  override build(): void {
    const { channels: c, hidden: h } = this;
    const add = (name: string, shape: number[], init: Initializer) => {
      this.weightsByName[name] = this.addWeight(name, shape, 'float32', init);
    };
    add('dense1_kernel', [c, h], truncatedNormal(this.seed));
    add('dense1_bias', [h], tfl.initializers.zeros());
    add('dwconv_kernel', [3, 3, h, 1], tfl.initializers.randomNormal({ stddev: Math.sqrt(2 / 9), seed: this.seed + 1 }));
    add('dwconv_bias', [h], tfl.initializers.zeros());
    add('dense2_kernel', [h, c], truncatedNormal(this.seed + 2));
    add('dense2_bias', [c], tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs) as tf.Tensor4D;
      const w = this.weightsByName;
      const [batch, height, width, c] = x.shape;
      const expanded = tf.reshape(linear(tf.reshape(x, [batch * height * width, c]), w.dense1_kernel!, w.dense1_bias!), [batch, height, width, this.hidden]) as tf.Tensor4D;
      const mixed = tf.add(tf.depthwiseConv2d(expanded, w.dwconv_kernel!.read() as tf.Tensor4D, 1, 'same'), w.dwconv_bias!.read());
      const activated = tf.reshape(gelu(mixed), [batch * height * width, this.hidden]) as tf.Tensor2D;
      return tf.reshape(linear(activated, w.dense2_kernel!, w.dense2_bias!), [batch, height, width, c]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), channels: this.channels, hidden: this.hidden, seed: this.seed };
  }
}

export interface SeededDropoutArgs extends LayerArgs {
  rate: number;
  /** 'sample' drops a whole residual branch per sample (stochastic depth); 'element' is ordinary dropout. */
  mode: 'sample' | 'element';
  seed: number;
}

/**
 * Dropout and stochastic depth (Huang et al. 2016) whose masks come from the seed and a draw number.
 * tfjs's own Dropout with a seed draws the same mask at every step; this one draws a new,
 * reproducible mask per training call. Identity at inference.
 */
export class SeededDropout extends tfl.layers.Layer implements SeededDraws {
  static className = 'SegformerSeededDropout';
  readonly rate: number;
  readonly mode: 'sample' | 'element';
  readonly seed: number;
  /** Which mask the next training call draws; the trainer positions it per step (positionDraws). */
  draw = 0;

  constructor(args: SeededDropoutArgs) {
    super(args);
    this.rate = args.rate;
    this.mode = args.mode;
    this.seed = args.seed;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = single(inputs);
    if (!kwargs.training || this.rate <= 0) return x.clone();
    return tf.tidy(() => {
      const keep = 1 - this.rate;
      const maskShape = this.mode === 'sample' ? [x.shape[0]!, ...x.shape.slice(1).map(() => 1)] : x.shape;
      const draw = tf.randomUniform(maskShape, 0, 1, 'float32', this.seed * 100_003 + this.draw++);
      return tf.mul(x, tf.div(tf.floor(tf.add(draw, keep)), keep));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, mode: this.mode, seed: this.seed };
  }
}

export interface BilinearUpsampleArgs extends LayerArgs {
  factor: number;
}

/** Bilinear up-sampling by an integer factor with half-pixel centres; see {@link bilinearUpsample}. */
export class BilinearUpsample extends tfl.layers.Layer {
  static className = 'SegformerBilinearUpsample';
  readonly factor: number;

  constructor(args: BilinearUpsampleArgs) {
    super(args);
    this.factor = args.factor;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [batch, height, width, channels] = singleShape(inputShape);
    const scale = (side: number | null | undefined) => (side == null ? null : side * this.factor);
    return [batch ?? null, scale(height), scale(width), channels ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return bilinearUpsample(single(inputs) as tf.Tensor4D, this.factor);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), factor: this.factor };
  }
}

// Registered on import, so that tf.loadLayersModel and modelFromJSON (checkpoints, the training
// worker) rebuild a saved SegFormer in every process that imports the model registry or model files.
for (const layer of [TokenLayerNorm, EfficientAttention, MixFfn, SeededDropout, BilinearUpsample]) tf.serialization.registerClass(layer);
