import { selectBackend } from '../src-main/engine/backend/select-backend';
import { benchSegformer } from '../bench/segformer-bench';
await selectBackend((process.argv[2] ?? 'wasm') as never);
console.log(JSON.stringify(await benchSegformer(Number(process.argv[3] ?? 128), 2), null, 1));
