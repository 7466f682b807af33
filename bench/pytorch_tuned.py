"""The tuned PyTorch peer: what an expert writes for speed with the same model and data.
Adam(fused=True) (one kernel for all parameters); the faster memory layout for training,
channels-last or NCHW, chosen by timing before the clock (channels-last suits the
convolutions, but FractionalMaxPool2d's CPU kernel works on NCHW planes and copies a
channels-last input there and back); evaluation under inference_mode in the fastest batch
of 64, 128, 256 and 500, also chosen by timing; and torch.compile with --compile (its
compilation falls in the untimed warm-up, reported as warmup_s). fp32 throughout, no AMP,
since the crate trains in fp32. The choices are reported. Prints one JSON line."""

import copy
import time

import torch

import common

EVAL_BATCHES = [64, 128, 256, 500]


def fastest_eval_batch(model, pixels, passes, device):
    """The evaluation batch with the highest throughput on the first 1,000 test images
    (each timed once after one untimed batch)."""
    model.eval()
    best, best_rate = EVAL_BATCHES[0], 0.0
    n = min(len(pixels), 1000)
    with torch.inference_mode():
        for batch in EVAL_BATCHES:
            model(pixels.batch(slice(0, batch)))
            common.sync(device)
            start = time.perf_counter()
            for i in range(0, n, batch):
                x = pixels.batch(slice(i, min(i + batch, n)))
                sum(torch.softmax(model(x), 1) for _ in range(passes)).argmax(1)
            common.sync(device)
            rate = n / (time.perf_counter() - start)
            if rate > best_rate:
                best, best_rate = batch, rate
    return best


def faster_layout(model, x, y, side, batch_size, device):
    """True when channels-last trains faster than NCHW: 20 timed steps each (after 3
    untimed), on copies of the model, so the real run starts from the same weights."""
    rates = {}
    for channels_last in (True, False):
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        trial = copy.deepcopy(model).to(memory_format=fmt)
        pixels = common.Pixels(x[:23 * batch_size], side, device, channels_last)
        labels = common.labels_on(y[:23 * batch_size], device)
        opt = torch.optim.Adam(trial.parameters(), lr=args.lr, fused=True)
        batches = common.shuffled_batches(pixels, labels, batch_size, device)
        rates[channels_last], _ = common.train(trial, opt, batches, 0.0, device)
    return rates[True] >= rates[False]


args = common.parse_args(__doc__, tuned=True)
device = common.setup(args)
x, y, tx, ty = common.load(args.data)
model, side = common.build(args)
model.to(device)
channels_last = faster_layout(model, x, y, side, args.batch_size, device)
if channels_last:
    model.to(memory_format=torch.channels_last)
pixels = common.Pixels(x, side, device, channels_last)
labels = common.labels_on(y, device)
opt = torch.optim.Adam(model.parameters(), lr=args.lr, fused=True)
net = torch.compile(model) if args.compile else model
batches = common.shuffled_batches(pixels, labels, args.batch_size, device)
speed, warmup_s = common.train(net, opt, batches, args.seconds, device)
test_pixels, test_labels = common.test_set(args, tx, ty, side, device, channels_last)
eval_batch = fastest_eval_batch(net, test_pixels, args.passes, device)
test = common.evaluate(net, test_pixels, test_labels, args.passes, eval_batch, device,
                       grad_off=torch.inference_mode)
common.report("pytorch-tuned", speed, test, eval_batch, warmup_s, {"compiled": args.compile,
               "layout": "channels-last" if channels_last else "nchw"})
