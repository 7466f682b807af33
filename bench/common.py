"""Shared pieces of the PyTorch peers that `cnn bench` runs: Fashion-MNIST from IDX
files, the models as the Rust crate builds them (LeNet-5 modern and the FMP nets, whose
sizes the crate passes in), timing, accuracy and peak RSS."""

import argparse
import gzip
import json
import resource
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST pixels in [0, 1]


def parse_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--model", choices=["lenet5-modern", "fmp-mnist", "fmp-cifar10", "fmp-cifar10-large"],
                   required=True)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--data", required=True, help="folder with the Fashion-MNIST .gz IDX files")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=0.0, help="time box; 0 = one full epoch")
    p.add_argument("--test-limit", type=int, default=10000)
    p.add_argument("--fmp-input", type=int, default=36)
    p.add_argument("--fmp-pooled", default="", help="pooled sides, from the Rust FmpSizes")
    p.add_argument("--fmp-growth", type=int, default=32, help="filters per block: F n in block n")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(folder):
    d = Path(folder)
    x = read_idx(d / "train-images-idx3-ubyte.gz")
    y = read_idx(d / "train-labels-idx1-ubyte.gz")
    tx = read_idx(d / "t10k-images-idx3-ubyte.gz")
    ty = read_idx(d / "t10k-labels-idx1-ubyte.gz")
    return x, y, tx, ty


class LeNet5Modern(nn.Module):
    """Rosebrock's LeNet: two 'same' 5x5 convolutions (20, 50) with ReLU and 2x2
    max-pooling, FC 500 + ReLU, FC 10."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5, padding=2)
        self.conv2 = nn.Conv2d(20, 50, 5, padding=2)
        self.fc1 = nn.Linear(7 * 7 * 50, 500)
        self.fc2 = nn.Linear(500, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2).flatten(1)
        return self.fc2(F.relu(self.fc1(x)))


class FmpNet(nn.Module):
    """An FMP net as the crate builds it (on 1-channel images): L blocks of conv 2x2 (F n filters)
    + BatchNorm + leaky ReLU 0.2 + fractional max-pooling + dropout 0.5 (n-1)/L, then
    conv 2x2 + BN + leaky ReLU + dropout 0.5 and a 1x1 conv to the classes."""

    def __init__(self, pooled, growth=32, classes=10):
        super().__init__()
        layers = len(pooled)
        blocks, channels = [], 1
        for n, out in enumerate(pooled, start=1):
            f = growth * n
            blocks += [nn.Conv2d(channels, f, 2), nn.BatchNorm2d(f), nn.LeakyReLU(0.2),
                       nn.FractionalMaxPool2d(2, output_size=out),
                       nn.Dropout(0.5 * (n - 1) / layers)]
            channels = f
        head = growth * (layers + 1)
        blocks += [nn.Conv2d(channels, head, 2), nn.BatchNorm2d(head), nn.LeakyReLU(0.2),
                   nn.Dropout(0.5), nn.Conv2d(head, classes, 1), nn.Flatten()]
        self.net = nn.Sequential(*blocks)

    def forward(self, x):
        return self.net(x)


def build(args):
    if args.model == "lenet5-modern":
        return LeNet5Modern(), 28
    pooled = [int(s) for s in args.fmp_pooled.split(",")]
    return FmpNet(pooled, args.fmp_growth), args.fmp_input


def pad_to(x, side):
    h = x.shape[-1]
    if h >= side:
        return x
    d = side - h
    return F.pad(x, (d // 2, d - d // 2, d // 2, d - d // 2))


def train(model, batches, seconds, lr):
    """Adam steps over `batches` until they run out or `seconds` pass (after 3 warm-up
    steps, which are not timed). Returns images per second."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    images, start, warm = 0, None, 0
    for x, y in batches:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if warm < 3:
            warm += 1
            if warm == 3:
                start = time.perf_counter()
            continue
        images += y.shape[0]
        if seconds and time.perf_counter() - start > seconds:
            break
    elapsed = time.perf_counter() - start if start else float("nan")
    return images / elapsed if images else float("nan")



@torch.no_grad()
def test_accuracy(model, tx, ty, side, limit):
    """Accuracy on the first `limit` test images, and the images per second it scored."""
    model.eval()
    x = torch.from_numpy(tx[:limit].copy()).float().div(255).unsqueeze(1)
    x = pad_to((x - MEAN) / STD, side)
    y = torch.from_numpy(ty[:limit].astype(np.int64))
    start = time.perf_counter()
    correct = sum(int((model(x[i:i + 500]).argmax(1) == y[i:i + 500]).sum())
                  for i in range(0, len(y), 500))
    return correct / len(y), len(y) / (time.perf_counter() - start)


def report(name, images_per_s, test):
    accuracy, eval_images_per_s = test
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"peer": name, "images_per_s": images_per_s, "test_acc": accuracy,
                      "eval_images_per_s": eval_images_per_s,
                      "peak_rss_mb": own, "workers_peak_rss_mb": children}))
