// Kernels tfjs-backend-wasm 4.22 lacks (Conv2DBackpropFilter) or runs slowly
// (Conv2DBackpropInput) for conv-net training; register before setBackend('wasm').
// (An im2col Conv2D for 1-channel inputs was tried too: 2× faster alone, but
// whole steps got ~6% slower than with XNNPACK's native conv, so it was dropped.)
import { registerWasmConv2DBackpropFilter } from './wasm-conv2d-backprop-filter';
import { registerWasmConv2DBackpropInput } from './wasm-conv2d-backprop-input';

export function registerWasmTrainingKernels(): void {
  registerWasmConv2DBackpropFilter();
  registerWasmConv2DBackpropInput();
}
