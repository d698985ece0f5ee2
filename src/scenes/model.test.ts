import { describe, expect, it } from 'vitest';
import { buildSceneModel } from './model.js';

describe('buildSceneModel', () => {
  it('keeps the weight order of checkpoints saved before the merged layers (restored by position)', () => {
    // checkpoints hold the weights in model.weights' order and are restored by position (shape-checked);
    // the ASPP projections and the decoders' first convolutions, separate layers before, sit where their
    // kernels now are in SceneBranchProjection and SceneSharedConv2D
    const model = buildSceneModel({
      height: 16,
      width: 32,
      numClasses: 7,
      tasks: ['semantic', 'instance', 'depth'],
    });
    const names = model.weights.map((w) => w.originalName);
    // the weights of a checkpoint saved before (stop 17's model), in order
    const before = BEFORE_MERGED_LAYERS;
    expect(names).toHaveLength(before.length);
    const renamed: Record<string, string> = {
      'aspp_1x1_proj/kernel': 'aspp_proj/kernel_0',
      'aspp_d2_0_proj/kernel': 'aspp_proj/kernel_1',
      'aspp_d4_1_proj/kernel': 'aspp_proj/kernel_2',
      'aspp_d6_2_proj/kernel': 'aspp_proj/kernel_3',
      'semantic_dec_conv/kernel': 'dec_conv/kernel_0',
      'instance_dec_conv/kernel': 'dec_conv/kernel_1',
      'depth_dec_conv/kernel': 'dec_conv/kernel_2',
    };
    expect(names).toEqual(before.map((n) => renamed[n] ?? n));
    model.dispose();
  });
});

/** The weight names of the scene model before SceneBranchProjection and SceneSharedConv2D, in order. */
const BEFORE_MERGED_LAYERS: readonly string[] = [
  'enc1_conv/kernel',
  'enc1_bn/gamma',
  'enc1_bn/beta',
  'enc2_conv/kernel',
  'enc2_bn/gamma',
  'enc2_bn/beta',
  'enc3_conv/kernel',
  'enc3_bn/gamma',
  'enc3_bn/beta',
  'enc4_conv/kernel',
  'enc4_bn/gamma',
  'enc4_bn/beta',
  'aspp_1x1_conv/kernel',
  'aspp_d2_0_conv/kernel',
  'aspp_d4_1_conv/kernel',
  'aspp_d6_2_conv/kernel',
  'aspp_pool_conv/kernel',
  'aspp_1x1_bn/gamma',
  'aspp_1x1_bn/beta',
  'aspp_d2_0_bn/gamma',
  'aspp_d2_0_bn/beta',
  'aspp_d4_1_bn/gamma',
  'aspp_d4_1_bn/beta',
  'aspp_d6_2_bn/gamma',
  'aspp_d6_2_bn/beta',
  'aspp_pool_bn/gamma',
  'aspp_pool_bn/beta',
  'aspp_1x1_proj/kernel',
  'aspp_d2_0_proj/kernel',
  'aspp_d4_1_proj/kernel',
  'aspp_d6_2_proj/kernel',
  'aspp_pool_proj/kernel',
  'aspp_bn/gamma',
  'aspp_bn/beta',
  'semantic_dec_conv/kernel',
  'instance_dec_conv/kernel',
  'depth_dec_conv/kernel',
  'semantic_dec_bn/gamma',
  'semantic_dec_bn/beta',
  'instance_dec_bn/gamma',
  'instance_dec_bn/beta',
  'depth_dec_bn/gamma',
  'depth_dec_bn/beta',
  'semantic_out/kernel',
  'semantic_out/bias',
  'instance_out/kernel',
  'instance_out/bias',
  'depth_out/kernel',
  'depth_out/bias',
  'enc1_bn/moving_mean',
  'enc1_bn/moving_variance',
  'enc2_bn/moving_mean',
  'enc2_bn/moving_variance',
  'enc3_bn/moving_mean',
  'enc3_bn/moving_variance',
  'enc4_bn/moving_mean',
  'enc4_bn/moving_variance',
  'aspp_1x1_bn/moving_mean',
  'aspp_1x1_bn/moving_variance',
  'aspp_d2_0_bn/moving_mean',
  'aspp_d2_0_bn/moving_variance',
  'aspp_d4_1_bn/moving_mean',
  'aspp_d4_1_bn/moving_variance',
  'aspp_d6_2_bn/moving_mean',
  'aspp_d6_2_bn/moving_variance',
  'aspp_pool_bn/moving_mean',
  'aspp_pool_bn/moving_variance',
  'aspp_bn/moving_mean',
  'aspp_bn/moving_variance',
  'semantic_dec_bn/moving_mean',
  'semantic_dec_bn/moving_variance',
  'instance_dec_bn/moving_mean',
  'instance_dec_bn/moving_variance',
  'depth_dec_bn/moving_mean',
  'depth_dec_bn/moving_variance',
];
