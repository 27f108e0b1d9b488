// Node-side (tests, benches, simulations) setup of the tfjs WASM backend.
// In Node, tfjs-backend-wasm's CJS build locates its .wasm binaries next to
// itself (node_modules/@tensorflow/tfjs-backend-wasm/dist), so no
// setWasmPaths call is needed; browsers must still call setWasmPaths.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './wasm-training-kernels';

/** Switches tfjs to the 'wasm' backend and adds the kernels it lacks for training. */
export async function initWasmBackendForNode(): Promise<void> {
  registerWasmTrainingKernels();
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error("tfjs could not initialise the 'wasm' backend");
  await tf.ready();
}
