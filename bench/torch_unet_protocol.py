"""PyTorch reference for `npm run bench:real`: trains the same U-Net under the same protocol on the
arrays CovSeg prepared (same split, same resizing), and prints the held-out Dice as JSON.

Arguments: DIR (with train/val/test .bin files and index.json), EPOCHS. Reference only.
"""
import json
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from torch_unet import UNet  # noqa: E402  (same architecture as the speed reference)

torch.set_num_threads(2)
torch.manual_seed(1)
folder, epochs = sys.argv[1], int(sys.argv[2])
index = json.load(open(os.path.join(folder, "index.json")))
size = index["size"]


def load(split):
    raw = np.fromfile(os.path.join(folder, f"{split}.bin"), dtype=np.uint8).reshape(-1, 2, size, size)
    x = torch.from_numpy(raw[:, 0:1].astype(np.float32) / 255.0)
    y = torch.from_numpy(raw[:, 1:2].astype(np.float32))
    return x, y


def dice_per_image(model, x, y):
    model.eval()
    with torch.no_grad():
        p = (torch.sigmoid(model(x)) >= 0.5).float()
    model.train()
    scores = []
    for pi, yi in zip(p, y):
        tp, fp, fn = (pi * yi).sum(), (pi * (1 - yi)).sum(), ((1 - pi) * yi).sum()
        if tp + fp + fn > 0:
            scores.append(float(2 * tp / (2 * tp + fp + fn)))
    return sum(scores) / len(scores) if scores else 0.0


xtr, ytr = load("train")
xva, yva = load("val")
xte, yte = load("test")
model = UNet()
opt = torch.optim.Adam(model.parameters(), 1e-3)
loss_fn = nn.BCEWithLogitsLoss()
best, best_state = -1.0, None
generator = torch.Generator().manual_seed(1)
for epoch in range(epochs):
    order = torch.randperm(len(xtr), generator=generator)
    for start in range(0, len(xtr), 4):
        batch = order[start:start + 4]
        opt.zero_grad()
        loss_fn(model(xtr[batch]), ytr[batch]).backward()
        opt.step()
    val = dice_per_image(model, xva, yva)
    if val > best:
        best, best_state = val, {k: v.clone() for k, v in model.state_dict().items()}
model.load_state_dict(best_state)
print(json.dumps({"bestValDice": best, "testDice": dice_per_image(model, xte, yte)}))
