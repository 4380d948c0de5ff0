"""Three-class PyTorch reference for `npm run bench:real`: the same U-Net with a 3-channel head
(background, ground-glass, consolidation), softmax, trained under CovSeg's protocol on the arrays
CovSeg prepared (same split, same resizing, nearest-resized class maps), and scored like CovSeg:
per-image Dice of each foreground class over the test slices whose truth has that class, mean class
Dice for model selection on validation. Losses: `ce` (cross-entropy) and `ce+dice` (cross-entropy
plus soft Dice over the foreground classes, smooth 1, as src-main/engine/losses/multiclass-losses).

Arguments: DIR (train/val/test `*-classes.bin` and index.json), EPOCHS, LOSS, SEED. Reference only.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from torch_unet import UNet  # noqa: E402  (same architecture as the speed reference)

torch.set_num_threads(2)
folder, epochs, loss_name, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
torch.manual_seed(seed)
size = json.load(open(os.path.join(folder, "index.json")))["size"]


def load(split):
    raw = np.fromfile(os.path.join(folder, f"{split}-classes.bin"), dtype=np.uint8).reshape(-1, 2, size, size)
    x = torch.from_numpy(raw[:, 0:1].astype(np.float32) / 255.0)
    y = torch.from_numpy(raw[:, 1].astype(np.int64))
    return x, y


def loss_fn(logits, y):
    ce = F.cross_entropy(logits, y)
    if loss_name == "ce":
        return ce
    p = logits.softmax(1)[:, 1:]
    t = F.one_hot(y, 3).permute(0, 3, 1, 2).float()[:, 1:]
    inter = (p * t).sum((2, 3))
    dice = (2 * inter + 1) / (p.sum((2, 3)) + t.sum((2, 3)) + 1)
    return ce + (1 - dice).mean()


def class_dice(model, x, y):
    model.eval()
    with torch.no_grad():
        pred = model(x).argmax(1)
    model.train()
    result = []
    for c in (1, 2):
        scores = []
        for pi, yi in zip(pred, y):
            truth, guess = yi == c, pi == c
            if truth.sum() == 0:
                continue
            tp = (truth & guess).sum().item()
            scores.append(2 * tp / (truth.sum().item() + guess.sum().item()))
        result.append({"dice": sum(scores) / len(scores) if scores else None, "slices": len(scores)})
    present = [r["dice"] for r in result if r["dice"] is not None]
    return result, (sum(present) / len(present) if present else 0.0)


xtr, ytr = load("train")
xva, yva = load("val")
xte, yte = load("test")
model = UNet()
model.head = nn.Conv2d(model.head.in_channels, 3, 1)
opt = torch.optim.Adam(model.parameters(), 1e-3)
best, best_state = -1.0, None
generator = torch.Generator().manual_seed(seed)
for epoch in range(epochs):
    order = torch.randperm(len(xtr), generator=generator)
    for start in range(0, len(xtr), 4):
        batch = order[start:start + 4]
        opt.zero_grad()
        loss_fn(model(xtr[batch]), ytr[batch]).backward()
        opt.step()
    _, val = class_dice(model, xva, yva)
    if val > best:
        best, best_state = val, {k: v.clone() for k, v in model.state_dict().items()}
model.load_state_dict(best_state)
classes, mean = class_dice(model, xte, yte)
print(json.dumps({"torch": torch.__version__, "loss": loss_name, "seed": seed, "bestValMeanDice": best, "groundGlass": classes[0], "consolidation": classes[1], "meanDice": mean}))
