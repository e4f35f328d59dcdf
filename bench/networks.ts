/**
 * The networks of shared/WORKLOADS.md in dendrite, as the benchmark builds them (bench/dendrite.ts;
 * other bench scripts may import them too).
 */
import { Conv2D, Dense, Flatten, MaxPool2D, Sequential } from '../src/index.js';

/** The W-MLP network: 784 → 256 ReLU → 128 ReLU → 10 softmax, He-normal weights, zero biases. */
export function mlpNetwork(seed: number): Sequential {
  return new Sequential([
    new Dense({ units: 256, activation: 'relu', kernelInitializer: 'heNormal' }),
    new Dense({ units: 128, activation: 'relu', kernelInitializer: 'heNormal' }),
    new Dense({ units: 10, activation: 'softmax', kernelInitializer: 'heNormal' }),
  ], { inputShape: [784], seed });
}

/**
 * The W-CNN network: 28×28×1 → Conv 16 5×5 → ReLU → MaxPool 2×2 → Conv 32 5×5 → ReLU → MaxPool 2×2
 * → Flatten (512) → Dense 10 softmax; He-normal weights, zero biases (NCHW input [1, 28, 28]).
 */
export function cnnNetwork(seed: number): Sequential {
  return new Sequential([
    new Conv2D({ filters: 16, kernelSize: 5, activation: 'relu', kernelInitializer: 'heNormal' }),
    new MaxPool2D({ poolSize: 2 }),
    new Conv2D({ filters: 32, kernelSize: 5, activation: 'relu', kernelInitializer: 'heNormal' }),
    new MaxPool2D({ poolSize: 2 }),
    new Flatten(),
    new Dense({ units: 10, activation: 'softmax', kernelInitializer: 'heNormal' }),
  ], { inputShape: [1, 28, 28], seed });
}
