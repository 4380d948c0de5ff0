"""Reference timings of the same U-Net in PyTorch (CPU), for `npm run bench` ratios only.

Prints one JSON object: train ms/step at each size (batch 4) and inference ms for one 256-px slice,
for the thread count given as the first argument. Not part of the product.

With `--serve`, times on request instead, so that the bench can interleave PyTorch's steps with its
own (bench/unet-train-interleaved.ts): one JSON command per stdin line,
`{"op": "train" | "infer", "size": 128, "threads": 1, "steps": 1}`, one JSON answer per line,
`{"ms": [per step]}`; the models stay warm between commands.
"""
import json
import sys
import time

import torch
from torch import nn



def block(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    def __init__(self, depth=4, base=16):
        super().__init__()
        self.down = nn.ModuleList()
        self.up = nn.ModuleList()
        self.upconv = nn.ModuleList()
        cin = 1
        for level in range(depth):
            self.down.append(block(cin, base * 2 ** level))
            cin = base * 2 ** level
        self.bottleneck = block(cin, base * 2 ** depth)
        for level in reversed(range(depth)):
            self.upconv.append(nn.ConvTranspose2d(base * 2 ** (level + 1), base * 2 ** level, 2, stride=2))
            self.up.append(block(base * 2 ** (level + 1), base * 2 ** level))
        self.head = nn.Conv2d(base, 1, 1)

    def forward(self, x):
        skips = []
        for down in self.down:
            x = down(x)
            skips.append(x)
            x = nn.functional.max_pool2d(x, 2)
        x = self.bottleneck(x)
        for upconv, up in zip(self.upconv, self.up):
            x = upconv(x)
            x = up(torch.cat([skips.pop(), x], dim=1))
        return self.head(x)


def trainer(size):
    """One training step of batch 4 at `size` px per call."""
    model = UNet()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.rand(4, 1, size, size)
    y = (torch.rand(4, 1, size, size) > 0.8).float()
    loss_fn = nn.BCEWithLogitsLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def train_ms(size, steps):
    step = trainer(size)
    for i in range(steps + 2):
        if i == 2:
            start = time.perf_counter()
        step()
    return (time.perf_counter() - start) * 1000 / steps


def serve():
    trainers = {}
    inferers = {}
    for line in sys.stdin:
        command = json.loads(line)
        torch.set_num_threads(command["threads"])
        size = command["size"]
        times = []
        if command["op"] == "train":
            step = trainers.setdefault(size, trainer(size))
        else:
            model, x = inferers.setdefault(size, (UNet().eval(), torch.rand(1, 1, size, size)))

            def step():
                with torch.no_grad():
                    model(x)
        for _ in range(command["steps"]):
            start = time.perf_counter()
            step()
            times.append((time.perf_counter() - start) * 1000)
        print(json.dumps({"ms": times, "torch": torch.__version__}), flush=True)


def infer_ms(size, steps):
    model = UNet().eval()
    x = torch.rand(1, 1, size, size)
    with torch.no_grad():
        for i in range(steps + 2):
            if i == 2:
                start = time.perf_counter()
            model(x)
    return (time.perf_counter() - start) * 1000 / steps


if __name__ == "__main__" and "--serve" in sys.argv:
    torch.manual_seed(0)
    serve()
elif __name__ == "__main__":
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    print(json.dumps({
        "threads": threads,
        "torch": torch.__version__,
        "train128": train_ms(128, 10),
        "train256": train_ms(256, 5),
        "infer256": infer_ms(256, 10),
    }))
