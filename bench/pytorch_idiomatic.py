"""The idiomatic PyTorch peer: PyTorch's defaults as most code uses them. The whole data
set in memory, shuffled index batches, Adam with its default (per-tensor) loop, NCHW
tensors, evaluation under no_grad in batches of 500. Prints one JSON line."""

import torch

import common

args = common.parse_args(__doc__)
device = common.setup(args)
x, y, tx, ty = common.load(args.data)
model, side = common.build(args)
model.to(device)
pixels, labels = common.Pixels(x, side, device), common.labels_on(y, device)
opt = torch.optim.Adam(model.parameters(), lr=args.lr)
batches = common.shuffled_batches(pixels, labels, args.batch_size, device)
speed, warmup_s = common.train(model, opt, batches, args.seconds, device)
test_pixels, test_labels = common.test_set(args, tx, ty, side, device)
test = common.evaluate(model, test_pixels, test_labels, args.passes, 500, device)
common.report("pytorch-idiomatic", speed, test, 500, warmup_s)
