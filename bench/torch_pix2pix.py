"""Reference timings of CovSeg's pix2pix in PyTorch (CPU), for the GAN bench ratios only.

Same architecture as src-main/engine/gan: U-Net generator of 4x4 stride-2 convolutions down to a
1x1 bottleneck, transposed convolutions up, instance norm, dropout 0.5 in the three innermost
up-blocks, tanh; 70x70 PatchGAN discriminator; BCE-from-logits + 100 L1; Adam 2e-4, beta1 0.5.
Usage: torch_pix2pix.py THREADS SIZE FILTERS... ; prints one JSON object. Not part of the product.
"""
import json
import math
import sys
import time

import torch
from torch import nn


class Generator(nn.Module):
    def __init__(self, size, filters, planes=1):
        super().__init__()
        self.levels = min(8, round(math.log2(size)))
        f = lambda level: filters * min(2 ** level, 8)
        self.down = nn.ModuleList()
        cin = planes
        for level in range(self.levels):
            innermost = level == self.levels - 1
            layers = [] if level == 0 else [nn.LeakyReLU(0.2)]
            layers.append(nn.Conv2d(cin, f(level), 4, 2, 1, bias=level == 0 or innermost))
            if 0 < level < self.levels - 1:
                layers.append(nn.InstanceNorm2d(f(level), affine=True))
            self.down.append(nn.Sequential(*layers))
            cin = f(level)
        self.up = nn.ModuleList()
        for k in range(self.levels - 1):
            level = self.levels - 2 - k
            cin_up = f(level + 1) if k == 0 else f(level + 1) * 2
            layers = [nn.ReLU(), nn.ConvTranspose2d(cin_up, f(level), 4, 2, 1, bias=False), nn.InstanceNorm2d(f(level), affine=True)]
            if k < 3:
                layers.append(nn.Dropout(0.5))
            self.up.append(nn.Sequential(*layers))
        self.out = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(f(0) * 2, 1, 4, 2, 1), nn.Tanh())

    def forward(self, x):
        skips = []
        for down in self.down:
            x = down(x)
            skips.append(x)
        skips.pop()
        for up in self.up:
            x = torch.cat([up(x), skips.pop()], 1)
        return self.out(x)


def discriminator(filters, planes=1):
    return nn.Sequential(
        nn.Conv2d(planes + 1, filters, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(filters, filters * 2, 4, 2, 1, bias=False), nn.InstanceNorm2d(filters * 2, affine=True), nn.LeakyReLU(0.2),
        nn.Conv2d(filters * 2, filters * 4, 4, 2, 1, bias=False), nn.InstanceNorm2d(filters * 4, affine=True), nn.LeakyReLU(0.2),
        nn.Conv2d(filters * 4, filters * 8, 4, 1, 1, bias=False), nn.InstanceNorm2d(filters * 8, affine=True), nn.LeakyReLU(0.2),
        nn.Conv2d(filters * 8, 1, 4, 1, 1),
    )


def time_preset(size, filters, batch=4, runs=3):
    g, d = Generator(size, filters), discriminator(filters)
    og = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    mask = (torch.rand(batch, 1, size, size) > 0.8).float()
    real = torch.rand(batch, 1, size, size) * 2 - 1

    def step():
        fake = g(mask)
        real_logits = d(torch.cat([mask, real], 1))
        fake_logits = d(torch.cat([mask, fake.detach()], 1))
        loss_d = 0.5 * (bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits)))
        od.zero_grad()
        loss_d.backward()
        od.step()
        fake = g(mask)
        logits = d(torch.cat([mask, fake], 1))
        loss_g = bce(logits, torch.ones_like(logits)) + 100 * (fake - real).abs().mean()
        og.zero_grad()
        loss_g.backward()
        og.step()

    step()
    start = time.perf_counter()
    for _ in range(runs):
        step()
    train = (time.perf_counter() - start) / runs * 1000
    one = mask[:1]
    with torch.no_grad():
        g(one)
        start = time.perf_counter()
        for _ in range(runs * 3):
            g(one)
        generate = (time.perf_counter() - start) / (runs * 3) * 1000
    return {"trainMsPerStep": train, "generateMsPerImage": generate}


if __name__ == "__main__":
    torch.set_num_threads(int(sys.argv[1]))
    size = int(sys.argv[2])
    result = {"torch": torch.__version__}
    for filters in sys.argv[3:]:
        result[f"filters{filters}"] = time_preset(size, int(filters))
    print(json.dumps(result))
