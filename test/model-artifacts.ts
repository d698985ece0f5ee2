import * as tf from '@tensorflow/tfjs';

/** What `model.save` writes (topology, weight specs and data), kept in memory. */
export async function savedArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler((artifacts) => {
      saved = artifacts;
      return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) });
    }),
  );
  if (saved === undefined) throw new Error('savedArtifacts: the model saved nothing');
  return saved;
}
