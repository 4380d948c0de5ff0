import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { CovsegError } from '../errors';
import { ATTRIBUTE, ModelProto, ONNX_FLOAT } from './onnx-schema';

/** Opset 13: Softmax over one axis, every op used here in its current form; IR version 7 goes with it. */
export const ONNX_OPSET = 13;
const IR_VERSION = 7;

/** Names of the exported graph's input and outputs. */
export const ONNX_INPUT = 'ct';
export const ONNX_LOGITS = 'logits';
export const ONNX_PROBABILITIES = 'probabilities';

interface OnnxNode {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute: object[];
}

interface OnnxTensor {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

type LayerConfig = Record<string, unknown>;

/** Value name of a layer's output; suffixed so a layer named like a graph output (`logits`) cannot clash. */
const valueName = (layer: tfl.layers.Layer) => `${layer.name}:0`;

const ints = (name: string, values: number[]) => ({ name, type: ATTRIBUTE.INTS, ints: values });
const int = (name: string, value: number) => ({ name, type: ATTRIBUTE.INT, i: value });
const float = (name: string, value: number) => ({ name, type: ATTRIBUTE.FLOAT, f: value });

function pair(value: unknown): [number, number] {
  const v = Array.isArray(value) ? value : [value, value];
  return [Number(v[0]), Number(v[1])];
}

function unsupported(layer: tfl.layers.Layer, why: string): CovsegError {
  return new CovsegError('unsupported', `layer ${layer.name} (${layer.getClassName()}) cannot be exported to ONNX: ${why}`, {
    fix: 'export a model built from Conv2D, BatchNormalization, ReLU, MaxPooling2D, Conv2DTranspose, Concatenate and Dropout layers (the registry U-Net)',
  });
}

/** Reorders a tfjs kernel to the ONNX layout, e.g. conv `[kh, kw, in, out]` -> `[out, in, kh, kw]`. */
function transposed(kernel: tf.Tensor, perm: number[]): { dims: number[]; data: Float32Array } {
  return tf.tidy(() => {
    const t = tf.transpose(kernel, perm);
    return { dims: t.shape, data: t.dataSync() as Float32Array };
  });
}

function rawFloats(data: Float32Array): Uint8Array {
  // ONNX raw_data is little-endian IEEE 754; Float32Array bytes are little-endian on every platform Node runs on here.
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

/** ONNX pads `[top, left, bottom, right]` for TensorFlow's 'same' padding (the extra pixel goes after). */
function samePads(kernel: [number, number], strides: [number, number], dilation: [number, number]): number[] {
  if (strides[0] !== 1 || strides[1] !== 1) throw new Error('same padding with strides other than 1');
  const total = [0, 1].map((a) => (kernel[a]! - 1) * dilation[a]!);
  return [Math.floor(total[0]! / 2), Math.floor(total[1]! / 2), total[0]! - Math.floor(total[0]! / 2), total[1]! - Math.floor(total[1]! / 2)];
}

export interface OnnxExportOptions {
  /** Free-form metadata stored in the model (run id, input scaling, threshold, ...). */
  metadata?: Record<string, string>;
  producerVersion?: string;
}

/**
 * Writes a tfjs layers model (NHWC) as a standard ONNX model (NCHW): input `ct` `[batch, channels,
 * height, width]`, outputs `logits` and `probabilities` `[batch, classes, height, width]` (sigmoid for
 * one class, softmax over the class axis for more, unless the model ends in that activation itself).
 * Batch, height and width are dynamic. Export the inference copy (batch norm folded); a batch norm
 * left in the model becomes an ONNX BatchNormalization.
 */
export function exportOnnx(model: tfl.LayersModel, options: OnnxExportOptions = {}): Uint8Array {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new CovsegError('unsupported', `ONNX export needs one input and one output, the model has ${model.inputs.length} and ${model.outputs.length}`);
  }
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  /** ONNX value name of each layer's output. */
  const valueOf = new Map<string, string>();
  let logits = '';
  let probabilities = '';
  let classes = 0;
  const addWeight = (name: string, dims: number[], data: Float32Array) => {
    initializers.push({ name, dims, data_type: ONNX_FLOAT, raw_data: rawFloats(data) });
    return name;
  };
  const node = (op: string, name: string, input: string[], output: string, attribute: object[] = []) => {
    nodes.push({ op_type: op, name, input, output: [output], attribute });
    return output;
  };
  const activation = (layer: tfl.layers.Layer, kind: string, input: string, isLast: boolean): string => {
    if (kind === 'linear') return input;
    if (kind === 'relu') return node('Relu', `${layer.name}/relu`, [input], valueName(layer));
    if (kind === 'sigmoid' || kind === 'softmax') {
      if (!isLast) throw unsupported(layer, `${kind} activation inside the network`);
      logits = input;
      probabilities = ONNX_PROBABILITIES;
      return kind === 'sigmoid' ? node('Sigmoid', `${layer.name}/sigmoid`, [input], ONNX_PROBABILITIES) : node('Softmax', `${layer.name}/softmax`, [input], ONNX_PROBABILITIES, [int('axis', 1)]);
    }
    throw unsupported(layer, `activation ${kind}`);
  };
  const last = model.layers[model.layers.length - 1]!;
  for (const layer of model.layers) {
    const config = layer.getConfig() as LayerConfig;
    const className = layer.getClassName();
    const isLast = layer === last;
    if (className === 'InputLayer') {
      valueOf.set(layer.name, ONNX_INPUT);
      continue;
    }
    const inbound = (layer as unknown as { inboundNodes: { inboundLayers: tfl.layers.Layer[] }[] }).inboundNodes[0]!.inboundLayers;
    const inputs = inbound.map((l) => valueOf.get(l.name)!);
    if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') throw unsupported(layer, 'channels-first data format');
    let out: string;
    switch (className) {
      case 'Conv2D':
      case 'Conv2DTranspose': {
        const [kernel, bias] = layer.getWeights();
        const kernelSize = pair(config.kernelSize);
        const strides = pair(config.strides);
        const dilation = pair(config.dilationRate ?? 1);
        let pads: number[];
        if (config.padding === 'valid') pads = [0, 0, 0, 0];
        else if (config.padding === 'same' && className === 'Conv2D') {
          try {
            pads = samePads(kernelSize, strides, dilation);
          } catch (error) {
            throw unsupported(layer, (error as Error).message);
          }
        } else throw unsupported(layer, `padding ${String(config.padding)}`);
        // Conv: [kh, kw, in, out] -> [out, in, kh, kw]; ConvTranspose: [kh, kw, out, in] -> [in, out, kh, kw].
        const w = transposed(kernel!, [3, 2, 0, 1]);
        const filters = Number(config.filters);
        const inputsOfOp = [inputs[0]!, addWeight(`${layer.name}/W`, w.dims, w.data)];
        if (bias) inputsOfOp.push(addWeight(`${layer.name}/B`, [filters], bias.dataSync() as Float32Array));
        const attributes = [ints('kernel_shape', kernelSize), ints('strides', strides), ints('pads', pads), ints('dilations', dilation)];
        const kind = String(config.activation ?? 'linear');
        const pre = kind === 'linear' ? valueName(layer) : `${layer.name}/pre`;
        node(className === 'Conv2D' ? 'Conv' : 'ConvTranspose', layer.name, inputsOfOp, pre, attributes);
        if (isLast) classes = filters;
        out = activation(layer, kind, pre, isLast);
        break;
      }
      case 'BatchNormalization': {
        const axis = Number(Array.isArray(config.axis) ? config.axis[0] : (config.axis ?? -1));
        if (axis !== -1 && axis !== 3) throw unsupported(layer, `normalisation over axis ${axis}`);
        if (config.center === false || config.scale === false) throw unsupported(layer, 'batch norm without centre or scale');
        const [gamma, beta, mean, variance] = layer.getWeights();
        const n = gamma!.shape[0]!;
        const weights = [gamma, beta, mean, variance].map((t, k) => addWeight(`${layer.name}/${['scale', 'B', 'mean', 'var'][k]}`, [n], t!.dataSync() as Float32Array));
        out = node('BatchNormalization', layer.name, [inputs[0]!, ...weights], valueName(layer), [float('epsilon', Number(config.epsilon ?? 1e-3))]);
        break;
      }
      case 'ReLU':
        if (config.maxValue !== null && config.maxValue !== undefined) throw unsupported(layer, 'capped ReLU');
        out = node('Relu', layer.name, [inputs[0]!], valueName(layer));
        break;
      case 'Activation':
        out = activation(layer, String(config.activation), inputs[0]!, isLast);
        break;
      case 'MaxPooling2D': {
        if (config.padding !== 'valid') throw unsupported(layer, `padding ${String(config.padding)}`);
        out = node('MaxPool', layer.name, [inputs[0]!], valueName(layer), [ints('kernel_shape', pair(config.poolSize)), ints('strides', pair(config.strides ?? config.poolSize)), ints('pads', [0, 0, 0, 0])]);
        break;
      }
      case 'Concatenate': {
        const axis = Number(config.axis ?? -1);
        if (axis !== -1 && axis !== 3) throw unsupported(layer, `concatenation along axis ${axis}`);
        out = node('Concat', layer.name, inputs, valueName(layer), [int('axis', 1)]);
        break;
      }
      case 'Dropout':
        // Inference: dropout is the identity.
        out = inputs[0]!;
        break;
      default:
        throw unsupported(layer, 'no ONNX mapping for this layer type');
    }
    valueOf.set(layer.name, out);
  }
  const final = valueOf.get(last.name)!;
  if (!probabilities) {
    classes ||= Number((model.outputs[0]!.shape as (number | null)[])[3] ?? 1);
    logits = final;
    probabilities = classes === 1 ? node('Sigmoid', 'probabilities/sigmoid', [final], ONNX_PROBABILITIES) : node('Softmax', 'probabilities/softmax', [final], ONNX_PROBABILITIES, [int('axis', 1)]);
  }
  // Graph outputs need their own names: route the logits through Identity to `logits`.
  node('Identity', 'logits/identity', [logits], ONNX_LOGITS);
  const inputChannels = Number((model.inputs[0]!.shape as (number | null)[])[3] ?? 1);
  const tensorType = (channels: number) => ({
    tensor_type: {
      elem_type: ONNX_FLOAT,
      shape: { dim: [{ dim_param: 'batch' }, { dim_value: channels }, { dim_param: 'height' }, { dim_param: 'width' }] },
    },
  });
  const message = ModelProto.fromObject({
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'CovSeg Studio',
    producer_version: options.producerVersion ?? '',
    doc_string: 'Lesion segmentation of CT slices. Input: slices windowed to 8 bits and divided by 255, NCHW. Outputs: per-class logits and probabilities, NCHW.',
    graph: {
      name: model.name,
      node: nodes,
      initializer: initializers,
      input: [{ name: ONNX_INPUT, type: tensorType(inputChannels) }],
      output: [
        { name: ONNX_LOGITS, type: tensorType(classes) },
        { name: ONNX_PROBABILITIES, type: tensorType(classes) },
      ],
    },
    metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  return ModelProto.encode(message).finish();
}
