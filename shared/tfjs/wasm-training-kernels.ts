// Kernels tfjs-backend-wasm 4.22 lacks (Conv2DBackpropFilter) or runs slowly
// (Conv2DBackpropInput) for conv-net training; register before setBackend('wasm').
import { registerWasmConv2DBackpropFilter } from './wasm-conv2d-backprop-filter';
import { registerWasmConv2DBackpropInput } from './wasm-conv2d-backprop-input';

export function registerWasmTrainingKernels(): void {
  registerWasmConv2DBackpropFilter();
  registerWasmConv2DBackpropInput();
}
