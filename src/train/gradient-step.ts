/**
 * The gradients of a step under a gradient-level strategy (PCGrad, MGDA-UB, CAGrad, GradNorm …): one
 * gradient pass per task over the shared parameters and its own head, the strategy's aggregate of the
 * shared gradients, each head's gradient scaled by its task weight. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import type { Task } from '../tasks/task.js';
import type { GradientWeightingStrategy } from '../weighting/strategy.js';
import { headChains, parameterRoles, representationLayer, type ParameterRoles } from './parameter-roles.js';

export class GradientLevelStep {
  private roles: ParameterRoles | null = null;
  /** The trunk up to the shared representation Z, and each task's layers after it (when the model allows). */
  private split: { trunk: tf.LayersModel; heads: tf.layers.Layer[][] } | null | undefined;

  constructor(
    private readonly model: tf.LayersModel,
    private readonly tasks: readonly Task[],
    private readonly modelVars: tf.Variable[],
    private readonly forward: (x: tf.Tensor) => tf.Tensor[],
  ) {}

  /**
   * The model weights' gradients by name, and each task's loss (inside the caller's tidy); null, before
   * the strategy sees them, when `accept` rejects the losses.
   */
  gradients(
    strategy: GradientWeightingStrategy,
    xb: tf.Tensor,
    targets: tf.Tensor[],
    masks: (tf.Tensor | undefined)[],
    accept?: (losses: tf.Scalar[]) => boolean,
  ): { grads: tf.NamedTensorMap; losses: tf.Scalar[] } | null {
    const T = this.tasks.length;
    const taskLoss = (t: number) => this.tasks[t]!.loss(this.forward(xb)[t]!, targets[t]!, masks[t]);
    this.roles ??= parameterRoles(this.model, this.modelVars, taskLoss, T);
    const { shared, lastShared, own } = this.roles;
    const flat = (grads: tf.NamedTensorMap, vars: readonly tf.Variable[]): tf.Tensor1D =>
      tf.concat<tf.Tensor1D>(
        vars.map((v) => tf.reshape<tf.Rank.R1>(grads[v.name] ?? tf.zeros(v.shape), [-1])),
      );
    const perTask = Array.from({ length: T }, (_, t) =>
      tf.variableGrads(() => taskLoss(t), [...shared, ...own[t]!]),
    );
    const losses = perTask.map((g) => g.value);
    if (accept && !accept(losses)) return null;
    const representation = this.representationGradients(xb, targets, masks);
    const decision = strategy.aggregate({
      shared: perTask.map((g) => flat(g.grads, shared)),
      lastShared: perTask.map((g) => flat(g.grads, lastShared)),
      ...(representation ? { representation } : {}),
      losses,
    });
    const grads: tf.NamedTensorMap = {};
    const parts = tf.split(
      decision.shared,
      shared.map((v) => v.size),
    );
    shared.forEach((v, i) => (grads[v.name] = tf.reshape(parts[i]!, v.shape)));
    perTask.forEach((g, t) => {
      for (const v of own[t]!)
        if (g.grads[v.name]) grads[v.name] = tf.mul(g.grads[v.name]!, decision.taskWeights[t]!);
    });
    return { grads, losses };
  }

  /**
   * ∂L_t/∂Z per task for the shared representation Z (the output of the layer owning the last shared
   * variables), flattened — when the model is a trunk followed by one chain of layers per task.
   */
  private representationGradients(
    xb: tf.Tensor,
    targets: tf.Tensor[],
    masks: (tf.Tensor | undefined)[],
  ): tf.Tensor1D[] | undefined {
    if (this.split === undefined) {
      const layer = representationLayer(this.model, this.roles!.lastShared);
      const heads = layer ? headChains(this.model, layer) : null;
      this.split =
        layer && heads
          ? {
              trunk: tf.model({ inputs: this.model.inputs, outputs: layer.output }),
              heads,
            }
          : null;
    }
    if (this.split === null) return undefined;
    const { trunk, heads } = this.split;
    const z = trunk.apply(xb, { training: true }) as tf.Tensor;
    return heads.map((chain, t) => {
      const lossOfZ = (zz: tf.Tensor) => {
        let h = zz;
        for (const layer of chain) h = layer.apply(h, { training: true }) as tf.Tensor;
        return this.tasks[t]!.loss(h, targets[t]!, masks[t]);
      };
      return tf.reshape<tf.Rank.R1>(tf.grad(lossOfZ)(z), [-1]);
    });
  }
}
