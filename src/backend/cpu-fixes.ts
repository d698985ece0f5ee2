/**
 * Fixes for tfjs-backend-cpu 4.22. Browser-safe.
 *
 * `ResizeBilinearGrad` on cpu returns the right values with the wrong shape: [batch, width, height,
 * depth] instead of [batch, height, width, depth] (its data are laid out row-major over height, width),
 * so training any model with bilinear upsampling of a non-square map throws "The gradient of input
 * 'images' has shape …". The fix relabels the shape; the values are untouched.
 */
import * as tf from '@tensorflow/tfjs';

const fixed = new WeakSet<tf.KernelFunc>();

/** Wraps cpu's ResizeBilinearGrad so its output has the input image's shape; idempotent. */
export function registerCpuFixes(): void {
  const original: tf.KernelConfig | undefined = tf.getKernel('ResizeBilinearGrad', 'cpu');
  if (original === undefined || fixed.has(original.kernelFunc)) return;
  const inner = original.kernelFunc;
  const kernelFunc: tf.KernelFunc = (args) => {
    const out = inner(args) as tf.TensorInfo;
    const images = (args.inputs as { images: tf.TensorInfo }).images;
    // the data are already [batch, height, width, depth]; only the reported shape is swapped
    return { ...out, shape: [...images.shape] };
  };
  fixed.add(kernelFunc);
  tf.unregisterKernel('ResizeBilinearGrad', 'cpu');
  tf.registerKernel({ ...original, kernelFunc });
}
