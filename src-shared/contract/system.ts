import { z } from 'zod';
import { command } from './define';

/** What computes, field by field (the header lays it out; `SystemInfo.backend` is the same in one line). */
export interface ComputeInfo {
  /** tfjs backend: `webgpu`, `wasm`, `tensorflow`, `cpu`. */
  name: string;
  package: string;
  version: string;
  gpu: boolean;
  /** The WebGPU adapter computing, for the webgpu backend. */
  adapter?: { vendor: string; architecture: string; description: string; software: boolean };
}

export interface SystemInfo {
  version: string;
  transport: 'electron' | 'http';
  /** Compute backend the engine uses: `wasm (@tensorflow/tfjs-backend-wasm 4.22.0, CPU)`. */
  backend: string;
  compute: ComputeInfo;
  /** Folders datasets may be opened from (server mode); empty in Electron (the user picks). */
  allowedRoots: string[];
  /** Built-in synthetic sample, ready to open. */
  samplePath: string;
}

export const systemCommands = {
  info: command<z.ZodObject<Record<string, never>>, SystemInfo>(z.object({})),
};
export const systemEvents = {};
