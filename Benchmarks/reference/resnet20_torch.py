"""PyTorch twin of Tangent's CIFAR ResNet-20 (Sources/NN/Architectures.swift): the SGD step time at batch 128.

He et al. (2016) layout without batch normalisation: a 3x3 conv with 16 channels, three stages of three basic
blocks (16, 32, 64 channels; the first block of stages 2 and 3 with stride 2 and a strided 1x1 projection
shortcut), each residual branch conv-ReLU-conv scaled by 1/sqrt(9), ReLU after the sum, global average
pooling and a dense layer; every conv and dense layer with a bias (271,690 parameters). Synthetic data of
CIFAR's shape; plain SGD (lr 0.01), softmax cross-entropy. Prints one JSON line like the anchors'
bench_torch.py. usage: python resnet20_torch.py [--batch 128] [--reps 10]
"""
import argparse
import json
import resource
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride, scale):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride) if (stride != 1 or cin != cout) else None
        self.scale = scale

    def forward(self, x):
        h = self.conv2(F.relu(self.conv1(x))) * self.scale
        return F.relu(h + (self.shortcut(x) if self.shortcut is not None else x))


class ResNet(nn.Module):
    def __init__(self, depth=20, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        blocks, channels = [], 16
        for s, width in enumerate([16, 32, 64]):
            for b in range(n):
                blocks.append(Block(channels, width, 2 if (s > 0 and b == 0) else 1, 1 / np.sqrt(3 * n)))
                channels = width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.stem(x)))
        return self.fc(x.mean(dim=(2, 3)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--reps", type=int, default=10)
    a = ap.parse_args()
    torch.manual_seed(0)
    model = ResNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.rand((a.batch, 3, 32, 32))
    y = torch.randint(0, 10, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    t0 = time.perf_counter(); step(); first = time.perf_counter() - t0
    for _ in range(2):
        step()
    ts = []
    for _ in range(a.reps):
        t0 = time.perf_counter(); step(); ts.append((time.perf_counter() - t0) * 1e3)
    ts = np.asarray(ts)
    print(json.dumps(dict(framework="torch", net="resnet20", task="train", batch=a.batch,
                          nparams=sum(p.numel() for p in model.parameters()), threads=torch.get_num_threads(),
                          torch=torch.__version__, first_call_s=round(first, 3), n=len(ts),
                          min_ms=round(float(ts.min()), 3), median_ms=round(float(np.median(ts)), 3),
                          max_ms=round(float(ts.max()), 3),
                          maxrss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))))


if __name__ == "__main__":
    main()
