#!/usr/bin/env python3
"""One training step of the scene network (src/scenes/model.ts) in PyTorch, for bench/scenes-step.mjs.

The same layers, losses, uncertainty weighting and optimiser as tfjs-mtl's trainSceneModel, in NCHW:
encoder of four conv(no bias)+BN+ReLU stages (strides 2, 2, 1, 1), an ASPP block (1x1, three dilated
3x3 and image pooling branches, each projected by its own bias-free 1x1 conv, summed, BN, ReLU) and one
decoder per task (3x3 conv+BN+ReLU, 1x1 conv with bias, bilinear x4). One fixed random batch (seeded);
each step (forward, backward, Adam step, log-variance clamp, reading the losses) is timed with
time.perf_counter. Prints one JSON line: {"msPerStep": median, "params": trainable count, ...}.
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 7  # SCENE_CLASSES
HEADS = (("semantic", NUM_CLASSES), ("instance", 2), ("depth", 1))


def he_normal_(w):
    # tf.initializers.heNormal: truncated normal, stddev sqrt(2 / fan_in) / 0.8796 (Keras' correction)
    fan_in = w.shape[1] * w.shape[2] * w.shape[3]
    std = math.sqrt(2.0 / fan_in) / 0.87962566103423978
    nn.init.trunc_normal_(w, 0.0, std, -2 * std, 2 * std)


class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout, k, stride=1, dilation=1):
        super().__init__()
        pad = dilation * (k // 2)
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=pad, dilation=dilation, bias=False)
        he_normal_(self.conv.weight)
        # FastBatchNorm(momentum 0.9, epsilon 1e-5): PyTorch's momentum is 1 - Keras'
        self.bn = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def projection(cin, cout):
    conv = nn.Conv2d(cin, cout, 1, bias=False)
    he_normal_(conv.weight)
    return conv


class SceneNet(nn.Module):
    def __init__(self, enc=(16, 32, 64), aspp=32, dilations=(2, 4, 6), dec=32, up=4):
        super().__init__()
        c1, c2, c3 = enc
        self.up = up
        self.enc = nn.Sequential(
            ConvBnRelu(3, c1, 3, stride=2),
            ConvBnRelu(c1, c2, 3, stride=2),
            ConvBnRelu(c2, c2, 3),
            ConvBnRelu(c2, c3, 3),
        )
        proj = aspp * 2
        self.branches = nn.ModuleList(
            [ConvBnRelu(c3, aspp, 1)] + [ConvBnRelu(c3, aspp, 3, dilation=d) for d in dilations]
        )
        self.projections = nn.ModuleList([projection(aspp, proj) for _ in self.branches])
        self.pool_branch = ConvBnRelu(c3, aspp, 1)
        self.pool_projection = projection(aspp, proj)
        self.aspp_bn = nn.BatchNorm2d(proj, eps=1e-5, momentum=0.1)
        self.decoders = nn.ModuleList()
        for _, channels in HEADS:
            out = nn.Conv2d(dec, channels, 1, bias=True)
            nn.init.xavier_uniform_(out.weight)  # glorotUniform
            nn.init.zeros_(out.bias)
            self.decoders.append(nn.Sequential(ConvBnRelu(proj, dec, 3), out))

    def forward(self, x):
        x = self.enc(x)
        summed = None
        for branch, project in zip(self.branches, self.projections):
            y = project(branch(x))
            summed = y if summed is None else summed + y
        pooled = x.mean(dim=(2, 3), keepdim=True)
        # [B, C, 1, 1]: broadcast over the feature map by the add
        summed = summed + self.pool_projection(self.pool_branch(pooled))
        features = F.relu(self.aspp_bn(summed))
        return [
            F.interpolate(d(features), scale_factor=self.up, mode="bilinear", align_corners=False)
            for d in self.decoders
        ]


def masked_cross_entropy(logits, labels, mask):
    per_pixel = F.cross_entropy(logits, labels, reduction="none")
    return (per_pixel * mask).sum() / mask.sum().clamp(min=1)


def masked_l1(pred, target, mask):
    # mask [B, 1, H, W] broadcasts over the channels; mean over labelled pixels x channels
    count = (mask.sum() * pred.shape[1]).clamp(min=1)
    return ((pred - target).abs() * mask).sum() / count


def make_batch(batch, height, width, generator):
    g = generator
    image = torch.rand(batch, 3, height, width, generator=g)
    labels = torch.randint(0, NUM_CLASSES, (batch, height, width), generator=g)
    semantic_mask = torch.ones(batch, height, width)  # every pixel labelled, as in the synthetic scenes
    instance_mask = (torch.rand(batch, 1, height, width, generator=g) < 0.1).float()
    offsets = 10 * torch.randn(batch, 2, height, width, generator=g) * instance_mask
    depth_mask = (torch.rand(batch, 1, height, width, generator=g) < 0.95).float()
    inverse_depth = 0.5 * torch.rand(batch, 1, height, width, generator=g) * depth_mask
    return image, labels, semantic_mask, offsets, instance_mask, inverse_depth, depth_mask


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=30, help="timed steps")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--height", type=int, default=64)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--sigma-lr", type=float, default=0.02, help="Adam lr of the log-variances")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--burst",
        type=int,
        default=0,
        help="for the paired driver: after the warm-up and every K timed steps, print "
        '{"paused": [ms of the steps since]} and wait for a line on stdin (the wait is not timed)',
    )
    args = p.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.batch < 2:
        p.error("need --steps >= 1, --warmup >= 0, --batch >= 2")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = SceneNet()
    model.train()
    # s = log sigma^2 per task, as uncertaintyWeighting (kendall form, clamp [-8, 8])
    log_vars = nn.Parameter(torch.zeros(len(HEADS)))
    data_coeff = torch.tensor([1.0, 0.5, 0.5])  # softmax e^-s L; Gaussian 1/2 e^-s L
    reg_coeff = torch.tensor([0.5, 0.5, 0.5])
    total_steps = args.warmup + args.steps
    opt = torch.optim.Adam(
        [
            {"params": list(model.parameters()), "lr": args.lr},
            {"params": [log_vars], "lr": args.sigma_lr},
        ],
        betas=(0.9, 0.999),
        eps=1e-8,
    )
    params = sum(q.numel() for q in model.parameters() if q.requires_grad)
    image, labels, sem_mask, offsets, inst_mask, inv_depth, depth_mask = make_batch(
        args.batch, args.height, args.width, torch.Generator().manual_seed(args.seed + 1)
    )

    times = []
    for step in range(1, total_steps + 1):
        t0 = time.perf_counter()
        # the paper's poly decay, as trainSceneModel (log-variances not decayed)
        opt.param_groups[0]["lr"] = args.lr * (1 - (step - 1) / total_steps) ** 0.9
        opt.zero_grad(set_to_none=True)
        semantic, instance, depth = model(image)
        losses = torch.stack(
            [
                masked_cross_entropy(semantic, labels, sem_mask),
                masked_l1(instance, offsets, inst_mask),
                masked_l1(depth, inv_depth, depth_mask),
            ]
        )
        total = (data_coeff * torch.exp(-log_vars) * losses + reg_coeff * log_vars).sum()
        total.backward()
        opt.step()
        with torch.no_grad():
            log_vars.clamp_(-8, 8)
        values = losses.detach().tolist() + [total.item()]  # trainSceneModel reads its losses too
        dt = (time.perf_counter() - t0) * 1000
        if not all(math.isfinite(v) for v in values):
            raise SystemExit(f"diverged at step {step}: {values}")
        if step > args.warmup:
            times.append(dt)
        timed = step - args.warmup
        if args.burst > 0 and 0 <= timed < args.steps and timed % args.burst == 0:
            print(json.dumps({"paused": times[len(times) - (args.burst if timed else 0) :]}), flush=True)
            if not sys.stdin.readline():
                raise SystemExit("the driver went away")

    print(f"trainable parameters: {params} (+ {log_vars.numel()} log-variances)", flush=True)
    print(
        json.dumps(
            {
                "impl": f"torch {torch.__version__}",
                "msPerStep": statistics.median(times),
                "params": params,
                "threads": torch.get_num_threads(),
                "steps": args.steps,
                "warmup": args.warmup,
                "times": times,
                "batch": args.batch,
                "losses": values[:3],
            }
        )
    )


if __name__ == "__main__":
    main()
