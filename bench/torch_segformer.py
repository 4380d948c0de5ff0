"""Reference timings of SegFormer-B0 in PyTorch (CPU), for `npm run bench` ratios only.

The same architecture as src-main/engine/models/segformer (MiT-B0 encoder: overlapping patch
embeddings 7x7/4 then 3x3/2, efficient self-attention with reduction 8/4/2/1, Mix-FFN with a 3x3
depthwise convolution and GELU, stochastic depth; all-MLP decoder to 256 channels), written here
by hand so no `transformers` package is needed. Prints one JSON object: train ms/step (batch 4,
BCE, AdamW) and inference ms per slice at each size given, for the thread count given first.
Not part of the product.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

CHANNELS = [32, 64, 160, 256]
DEPTHS = [2, 2, 2, 2]
HEADS = [1, 2, 5, 8]
REDUCTION = [8, 4, 2, 1]
PATCH = [7, 3, 3, 3]
STRIDE = [4, 2, 2, 2]


class DropPath(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = torch.empty(x.shape[0], 1, 1, device=x.device).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p)


class Attention(nn.Module):
    def __init__(self, dim, heads, reduction):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        self.reduction = reduction
        if reduction > 1:
            self.sr = nn.Conv2d(dim, dim, reduction, stride=reduction)
            self.norm = nn.LayerNorm(dim)

    def forward(self, x, h, w):
        b, n, c = x.shape
        q = self.q(x).reshape(b, n, self.heads, c // self.heads).transpose(1, 2)
        if self.reduction > 1:
            y = x.transpose(1, 2).reshape(b, c, h, w)
            y = self.sr(y).flatten(2).transpose(1, 2)
            y = self.norm(y)
        else:
            y = x
        kv = self.kv(y).reshape(b, -1, 2, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        k, v = kv[0], kv[1]
        attn = (q @ k.transpose(-2, -1)) * (c // self.heads) ** -0.5
        out = (attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(out)


class MixFfn(nn.Module):
    def __init__(self, dim):
        super().__init__()
        hidden = dim * 4
        self.fc1 = nn.Linear(dim, hidden)
        self.dw = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x, h, w):
        b, n, _ = x.shape
        y = self.fc1(x)
        y = self.dw(y.transpose(1, 2).reshape(b, -1, h, w)).flatten(2).transpose(1, 2)
        return self.fc2(F.gelu(y))


class Block(nn.Module):
    def __init__(self, dim, heads, reduction, drop):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, reduction)
        self.norm2 = nn.LayerNorm(dim)
        self.ffn = MixFfn(dim)
        self.drop = DropPath(drop)

    def forward(self, x, h, w):
        x = x + self.drop(self.attn(self.norm1(x), h, w))
        return x + self.drop(self.ffn(self.norm2(x), h, w))


class SegFormer(nn.Module):
    def __init__(self, in_channels=1, outputs=1, drop_path=0.1, dropout=0.1, decoder=256):
        super().__init__()
        total = sum(DEPTHS)
        rates = [drop_path * i / (total - 1) for i in range(total)]
        self.patch = nn.ModuleList()
        self.patch_norm = nn.ModuleList()
        self.blocks = nn.ModuleList()
        self.norms = nn.ModuleList()
        cin, k = in_channels, 0
        for s in range(4):
            self.patch.append(nn.Conv2d(cin, CHANNELS[s], PATCH[s], stride=STRIDE[s], padding=PATCH[s] // 2))
            self.patch_norm.append(nn.LayerNorm(CHANNELS[s]))
            self.blocks.append(nn.ModuleList([Block(CHANNELS[s], HEADS[s], REDUCTION[s], rates[k + i]) for i in range(DEPTHS[s])]))
            self.norms.append(nn.LayerNorm(CHANNELS[s]))
            k += DEPTHS[s]
            cin = CHANNELS[s]
        self.linear = nn.ModuleList([nn.Linear(c, decoder) for c in CHANNELS])
        self.fuse = nn.Sequential(nn.Conv2d(4 * decoder, decoder, 1, bias=False), nn.BatchNorm2d(decoder), nn.ReLU())
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Conv2d(decoder, outputs, 1)

    def forward(self, x):
        b, _, height, width = x.shape
        features = []
        for s in range(4):
            x = self.patch[s](x)
            h, w = x.shape[2], x.shape[3]
            x = self.patch_norm[s](x.flatten(2).transpose(1, 2))
            for block in self.blocks[s]:
                x = block(x, h, w)
            x = self.norms[s](x).transpose(1, 2).reshape(b, -1, h, w)
            features.append(x)
        h4, w4 = features[0].shape[2:]
        decoded = []
        for s, f in enumerate(features):
            y = self.linear[s](f.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(b, -1, f.shape[2], f.shape[3])
            decoded.append(F.interpolate(y, size=(h4, w4), mode='bilinear', align_corners=False))
        y = self.fuse(torch.cat(decoded[::-1], dim=1))
        y = self.classifier(self.dropout(y))
        return F.interpolate(y, size=(height, width), mode='bilinear', align_corners=False)


def timed(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    for _ in range(runs):
        fn()
    return (time.perf_counter() - start) / runs * 1000


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    sizes = [int(s) for s in sys.argv[2].split(',')] if len(sys.argv) > 2 else [128]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    result = {'torch': torch.__version__, 'threads': threads}
    for size in sizes:
        model = SegFormer()
        optimizer = torch.optim.AdamW(model.parameters(), lr=6e-5, weight_decay=0.01)
        x = torch.rand(4, 1, size, size)
        y = (torch.rand(4, 1, size, size) > 0.8).float()

        def step():
            optimizer.zero_grad()
            loss = F.binary_cross_entropy_with_logits(model(x), y)
            loss.backward()
            optimizer.step()

        model.train()
        result[f'train{size}'] = timed(step, 1, runs)
        model.eval()
        one = torch.rand(1, 1, size, size)
        with torch.no_grad():
            result[f'infer{size}'] = timed(lambda: model(one), 1, runs * 3)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
