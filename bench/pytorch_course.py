"""The course-style PyTorch peer: a Dataset of PIL-like uint8 images with per-sample
transforms written as torchvision's (ToTensor, RandomRotation(10), Normalize, Pad), a
DataLoader with one worker per core, Adam, and evaluation under no_grad in batches of 500.
Prints one JSON line."""

import math
import os
import random

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

import common


class RandomRotation:
    """torchvision.transforms.RandomRotation on a [C, H, W] tensor: one angle per image."""

    def __init__(self, degrees):
        self.degrees = degrees

    def __call__(self, img):
        a = math.radians(random.uniform(-self.degrees, self.degrees))
        theta = torch.tensor([[math.cos(a), -math.sin(a), 0.0],
                              [math.sin(a), math.cos(a), 0.0]]).unsqueeze(0)
        grid = F.affine_grid(theta, [1, *img.shape], align_corners=False)
        return F.grid_sample(img.unsqueeze(0), grid, align_corners=False).squeeze(0)


class ToTensor:
    def __call__(self, img):
        return torch.from_numpy(img.copy()).float().div(255).unsqueeze(0)


class Normalize:
    def __init__(self, mean, std):
        self.mean, self.std = mean, std

    def __call__(self, img):
        return (img - self.mean) / self.std


class Pad:
    def __init__(self, side):
        self.side = side

    def __call__(self, img):
        return common.pad_to(img, self.side)


class Compose:
    def __init__(self, steps):
        self.steps = steps

    def __call__(self, img):
        for s in self.steps:
            img = s(img)
        return img


class FashionMnist(Dataset):
    def __init__(self, images, labels, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.transform(self.images[i]), int(self.labels[i])


if __name__ == "__main__":
    args = common.parse_args(__doc__)
    device = common.setup(args)
    x, y, tx, ty = common.load(args.data)
    model, side = common.build(args)
    model.to(device)
    transform = Compose([ToTensor(), RandomRotation(10), Normalize(common.MEAN, common.STD),
                         Pad(side)])
    loader = DataLoader(FashionMnist(x, y, transform), batch_size=args.batch_size,
                        shuffle=True, num_workers=os.cpu_count() or 1)
    batches = ((images.to(device), labels.to(device)) for images, labels in loader)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    speed, warmup_s = common.train(model, opt, batches, args.seconds, device)
    pixels, labels = common.test_set(args, tx, ty, side, device)
    test = common.evaluate(model, pixels, labels, args.passes, 500, device)
    common.report("pytorch-course", speed, test, 500, warmup_s)
