/**
 * Per-pixel uncertainty maps of the scene network (Kendall & Gal 2017): the predictive entropy of the
 * semantic softmax (every model) and the standard deviation of a heteroscedastic head's Laplace
 * distribution. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { LOG_VARIANCE_LIMIT } from '../tasks/heteroscedastic.js';

/**
 * Entropy −Σ_c p_c·log p_c of softmax(logits) along the last axis, in nats: [..., C] → [...]. 0 for a
 * one-hot distribution, log C for a uniform one.
 */
export function softmaxEntropy(logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const logP = tf.logSoftmax(logits, -1);
    return tf.neg(tf.sum(tf.mul(tf.exp(logP), logP), -1));
  });
}

/**
 * The standard deviation of independent Laplace components with log-scales s = log b along the last
 * axis, combined as √(Σ_c σ_c²) with σ_c = √2·b_c: [..., k] → [...]. One component (inverse depth) gives
 * its own σ = √2·b; two (the instance vector's dy, dx) the root of the summed variances, the spread of
 * the vector's endpoint. s is clipped to ±LOG_VARIANCE_LIMIT as in the loss.
 */
export function laplaceSigma(logScale: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const b = tf.exp(tf.clipByValue(logScale, -LOG_VARIANCE_LIMIT, LOG_VARIANCE_LIMIT));
    return tf.sqrt(tf.mul(tf.sum(tf.square(b), -1), 2));
  });
}
