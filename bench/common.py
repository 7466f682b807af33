"""Shared pieces of the PyTorch peers that `cnn bench` runs: Fashion-MNIST from IDX files,
the models as the Rust crate builds them (LeNet-5 modern and the FMP nets, whose sizes the
crate passes in), batches made inside the clock, the timed training and evaluation loops,
and the one JSON line each peer prints.

Every side of a comparison does the same work inside its clocks: training turns uint8
images into normalised, padded float batches as it goes (the crate does too), and
evaluation averages the softmax of `--passes` test-mode passes per batch.

Run alone, it prints a model's parameter count (the crate's tests compare it with theirs):
    python common.py --model fmp-mnist --fmp-input 36 --fmp-pooled 25,... --fmp-growth 32
"""

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
MODELS = ["lenet5-modern", "fmp-mnist", "fmp-cifar10", "fmp-cifar10-large"]


def parse_args(description, tuned=False):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--model", choices=MODELS, required=True)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--data", help="folder with the Fashion-MNIST .gz IDX files")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=0.0, help="time box; 0 = one full epoch")
    p.add_argument("--test-limit", type=int, default=10000)
    p.add_argument("--passes", type=int, default=1, help="test-mode passes averaged per image")
    p.add_argument("--fmp-input", type=int, default=36)
    p.add_argument("--fmp-pooled", default="", help="pooled sides, from the Rust FmpSizes")
    p.add_argument("--fmp-growth", type=int, default=32, help="filters per block: F n in block n")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    if tuned:
        p.add_argument("--compile", action="store_true", help="torch.compile the model")
    return p.parse_args()


def setup(args):
    """Threads, seed and device, the same way in every peer. On CUDA, cuDNN picks its
    fastest convolution algorithms (the batch shape is fixed)."""
    if not args.data:
        raise SystemExit("--data is required: the folder with the Fashion-MNIST .gz IDX files")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda, but this PyTorch sees no CUDA GPU")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.backends.cudnn.benchmark = args.device == "cuda"
    return torch.device(args.device)


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
    """The model and the side of its square input."""
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


class Pixels:
    """uint8 images kept on the device; `batch` makes a normalised, padded float batch of
    some of them (inside the clock, as the crate does)."""

    def __init__(self, images, side, device, channels_last=False):
        self.images = torch.from_numpy(images.copy()).unsqueeze(1).to(device)
        self.side = side
        self.format = torch.channels_last if channels_last else torch.contiguous_format

    def __len__(self):
        return self.images.shape[0]

    def batch(self, index):
        x = self.images[index].float().div_(255).sub_(MEAN).div_(STD)
        return pad_to(x, self.side).contiguous(memory_format=self.format)


def labels_on(labels, device):
    return torch.from_numpy(labels.astype(np.int64)).to(device)


def shuffled_batches(pixels, labels, batch_size, device):
    """One epoch of shuffled batches, made as they are needed."""
    order = torch.randperm(len(pixels), device=device)
    for i in range(0, len(order), batch_size):
        idx = order[i:i + batch_size]
        yield pixels.batch(idx), labels[idx]


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def train(model, opt, batches, seconds, device):
    """Optimizer steps over `batches` until they run out or `seconds` pass. The first 3
    steps are warm-up, not timed (with torch.compile, they hold the compilation).
    Returns (images per second, warm-up seconds)."""
    model.train()
    begin = time.perf_counter()
    images, start, warm, warmup_s = 0, None, 0, float("nan")
    for x, y in batches:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if warm < 3:
            warm += 1
            if warm == 3:
                sync(device)
                start = time.perf_counter()
                warmup_s = start - begin
            continue
        images += y.shape[0]
        if seconds and time.perf_counter() - start > seconds:
            break
    sync(device)
    elapsed = time.perf_counter() - start if start else float("nan")
    return (images / elapsed if images else float("nan")), warmup_s


WARM_UP_IMAGES = 1000


def evaluate(model, pixels, labels, passes, batch, device, grad_off=torch.no_grad):
    """Accuracy and images per second of `passes` averaged test-mode passes per image,
    batches made inside the clock. The clock starts after one untimed test-mode pass over
    the first WARM_UP_IMAGES test images, as on the crate's side: the tuned peer's choice of
    batch has made such passes already, and the first calls of a shape build its oneDNN
    kernels."""
    model.eval()

    def score(n, passes):
        correct = torch.zeros((), dtype=torch.int64, device=device)
        for i in range(0, n, batch):
            j = min(i + batch, n)
            p = sum(F.softmax(model(pixels.batch(slice(i, j))), 1) for _ in range(passes))
            correct += (p.argmax(1) == labels[i:j]).sum()
        return correct.item() / n

    with grad_off():
        score(min(len(pixels), WARM_UP_IMAGES), 1)
        sync(device)
        start = time.perf_counter()
        accuracy = score(len(pixels), passes)
        sync(device)
        return accuracy, len(pixels) / (time.perf_counter() - start)


def test_set(args, tx, ty, side, device, channels_last=False):
    n = args.test_limit
    return Pixels(tx[:n], side, device, channels_last), labels_on(ty[:n], device)


def report(name, images_per_s, test, eval_batch, warmup_s, extra=None):
    """Prints the one JSON line `cnn bench` reads. Peak RSS counts the process and its
    largest child (a DataLoader worker)."""
    accuracy, eval_images_per_s = test
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    line = {"side": name, "images_per_s": images_per_s, "eval_images_per_s": eval_images_per_s,
            "test_acc": accuracy, "peak_rss_mb": own + children, "eval_batch": eval_batch,
            "warmup_s": warmup_s}
    line.update(extra or {})
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    model, _ = build(parse_args("Prints the model's parameter count as JSON."))
    print(json.dumps({"parameters": sum(p.numel() for p in model.parameters())}))
