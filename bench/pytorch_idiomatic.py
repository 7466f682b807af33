"""The idiomatic PyTorch peer: the whole data set as in-memory tensors, normalised and
padded once, shuffled index batches, Adam. Prints one JSON line."""

import torch

import common

args = common.parse_args(__doc__)
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
x, y, tx, ty = common.load(args.data)
model, side = common.build(args)
images = torch.from_numpy(x.copy()).float().div(255).unsqueeze(1)
images = common.pad_to((images - common.MEAN) / common.STD, side)
labels = torch.from_numpy(y.astype("int64"))


def batches():
    order = torch.randperm(len(labels))
    for i in range(0, len(order), args.batch_size):
        idx = order[i:i + args.batch_size]
        yield images[idx], labels[idx]


speed = common.train(model, batches(), args.seconds, args.lr)
test = common.test_accuracy(model, tx, ty, side, args.test_limit)
common.report("pytorch-idiomatic", speed, test)
