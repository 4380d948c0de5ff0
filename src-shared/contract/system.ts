import { z } from 'zod';
import { command } from './define';

export interface SystemInfo {
  version: string;
  transport: 'electron' | 'http';
  /** Compute backend the engine uses: `wasm (@tensorflow/tfjs-backend-wasm 4.22.0, CPU)`. */
  backend: string;
  /** Folders datasets may be opened from (server mode); empty in Electron (the user picks). */
  allowedRoots: string[];
  /** Built-in synthetic sample, ready to open. */
  samplePath: string;
}

export const systemCommands = {
  info: command<z.ZodObject<Record<string, never>>, SystemInfo>(z.object({})),
};
export const systemEvents = {};
