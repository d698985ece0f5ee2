import * as tf from '@tensorflow/tfjs';

/** Which of a model's trainable variables every task shares, and which belong to one task only. */
export interface ParameterRoles {
  /** Variables whose gradient depends on two or more tasks (the trunk), in model order. */
  shared: tf.Variable[];
  /** The shared variables of the last layer that has any (GradNorm's W). */
  lastShared: tf.Variable[];
  /** Per task, the variables only that task's loss reaches (its head). */
  own: tf.Variable[][];
}

/**
 * Finds the roles from which task losses reach which variables (one gradient pass per task on a
 * batch). Works for any model with one output per task, not only the builders' layer names.
 */
export function parameterRoles(
  model: tf.LayersModel,
  variables: readonly tf.Variable[],
  taskLoss: (t: number) => tf.Scalar,
  tasks: number,
): ParameterRoles {
  const reached = variables.map(() => new Set<number>());
  for (let t = 0; t < tasks; t++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => taskLoss(t), [...variables]);
      variables.forEach((v, i) => {
        if (grads[v.name]) reached[i]!.add(t);
      });
    });
  }
  const shared = variables.filter((_, i) => reached[i]!.size > 1);
  const own = Array.from({ length: tasks }, (_, t) =>
    variables.filter((_, i) => reached[i]!.size === 1 && reached[i]!.has(t)),
  );
  const sharedSet = new Set(shared);
  let lastShared: tf.Variable[] = [];
  for (const layer of model.layers) {
    const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable).filter((v) => sharedSet.has(v));
    if (vars.length > 0) lastShared = vars;
  }
  return { shared, lastShared, own };
}

/**
 * The layers after the shared representation: for each task, the chain of layers from just after
 * `trunkLayer` to the task's output layer, when the model is such a chain per task (as
 * `sharedTrunkModel` builds); null when it is not, e.g. a head that merges several inputs.
 */
export function headChains(model: tf.LayersModel, trunkLayer: tf.layers.Layer): tf.layers.Layer[][] | null {
  const chains: tf.layers.Layer[][] = [];
  for (const output of model.outputs) {
    const chain: tf.layers.Layer[] = [];
    let layer = output.sourceLayer;
    while (layer !== trunkLayer) {
      chain.unshift(layer);
      const inbound = (layer as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] })
        .inboundNodes;
      if (inbound.length !== 1 || inbound[0]!.inboundLayers.length !== 1) return null;
      layer = inbound[0]!.inboundLayers[0]!;
      if (chain.length > model.layers.length) return null;
    }
    chains.push(chain);
  }
  return chains;
}

/** The layer owning the last shared variables: its output is the shared representation Z. */
export function representationLayer(
  model: tf.LayersModel,
  lastShared: readonly tf.Variable[],
): tf.layers.Layer | null {
  if (lastShared.length === 0) return null;
  const owner = model.layers.find((l) => l.trainableWeights.some((w) => w.read() === lastShared[0]));
  return owner ?? null;
}
