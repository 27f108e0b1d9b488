"""A PyTorch mirror of bench:quality's encoder, recipe and federated arms, for choosing what to run.

It is a tuning aid, not a quality measurement: PyTorch on one CPU thread runs the recipe's
step about 5x faster than tfjs WASM in Node, so a 256,000-image job takes 12-18 minutes
instead of an hour. Its augmentation, initialisation and probe only approximate the
project's (torch's affine_grid instead of tf.image.transform, L-BFGS on 4 C values), so
nothing here decides quality; bench:quality does.

  npx tsx bench/explore/dump-datasets.ts                # once: the bundled split as raw bytes
  /usr/bin/python3 bench/explore/simclr_mirror.py --mode central --batch 64
  /usr/bin/python3 bench/explore/simclr_mirror.py --mode supervised --budget 128000 --batch 64 --crop 0.6
  /usr/bin/python3 bench/explore/simclr_mirror.py --mode fed --alpha 0 --dropout 0 --local-steps 10
Each run appends one JSON line to <data>/results.jsonl.
"""
import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--mode', choices=['central', 'supervised', 'fed'], default='central')
p.add_argument('--data', default='.scratch/explore')
p.add_argument('--dataset', default='fashion-mnist')
p.add_argument('--filters', default='32,64,128,128')
p.add_argument('--strides', default='1,2,2,2')
p.add_argument('--pool', type=int, default=2, help='representation: the last map average-pooled to pool x pool')
p.add_argument('--pools', default='2,4', help='pool grids to probe at the end')
p.add_argument('--head', default='256,128')
p.add_argument('--tau', type=float, default=0.2)
p.add_argument('--lr', type=float, default=2e-3)
p.add_argument('--batch', type=int, default=256)
p.add_argument('--budget', type=int, default=256000, help='images processed')
p.add_argument('--crop', type=float, default=0.35, help='min crop area fraction')
p.add_argument('--rot', type=float, default=15)
p.add_argument('--trans', type=float, default=0.1)
p.add_argument('--flip', type=int, default=1)
p.add_argument('--bright', type=float, default=0.4)
p.add_argument('--contrast', type=float, default=0.4)
p.add_argument('--jitter-p', type=float, default=0.8)
p.add_argument('--blur-p', type=float, default=0.5)
p.add_argument('--noise-p', type=float, default=0.5)
p.add_argument('--seed', type=int, default=1)
p.add_argument('--probe-init', type=int, default=0, help='also probe the random init')
# Federated mode (bench:quality's fed arms: fresh Adam per round, example-weighted mean, delta clipping).
p.add_argument('--clients', type=int, default=10)
p.add_argument('--local-steps', type=int, default=10)
p.add_argument('--client-batch', type=int, default=128)
p.add_argument('--alpha', type=float, default=0.1, help='Dirichlet concentration; 0 = IID')
p.add_argument('--dropout', type=float, default=0.3)
p.add_argument('--server-lr', type=float, default=1.0)
p.add_argument('--server-opt', choices=['avg', 'adam'], default='avg', help='adam: server/strategies/fedadam.ts')
p.add_argument('--server-tau', type=float, default=1e-3, help='FedAdam τ (beta1 0.9, beta2 0.99 as the server)')
p.add_argument('--clip', type=float, default=10.0)
p.add_argument('--keep-client-adam', type=int, default=0, help='1: each client keeps its Adam moments across rounds')
a = p.parse_args()
torch.set_num_threads(1)
torch.manual_seed(a.seed)
rng = np.random.default_rng(a.seed)


def load(split):
    x = np.fromfile(f'{a.data}/{a.dataset}-{split}-x.u8', dtype=np.uint8).reshape(-1, 1, 28, 28)
    y = np.fromfile(f'{a.data}/{a.dataset}-{split}-y.u8', dtype=np.uint8)
    return torch.from_numpy(x.astype(np.float32) / 255), torch.from_numpy(y.astype(np.int64))


Xtr, Ytr = load('train')
Xte, Yte = load('test')
filters = [int(v) for v in a.filters.split(',')]
strides = [int(v) for v in a.strides.split(',')]


class Encoder(nn.Module):
    """conv 3x3 (no bias) -> GroupNorm(8) -> ReLU per layer, then the pooled map flattened."""

    def __init__(self):
        super().__init__()
        layers, c = [], 1
        for f, s in zip(filters, strides):
            layers += [nn.Conv2d(c, f, 3, s, 1, bias=False), nn.GroupNorm(8, f), nn.ReLU()]
            c = f
        self.body = nn.Sequential(*layers)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity='relu')

    def forward(self, x, pool=None):
        return F.adaptive_avg_pool2d(self.body(x), pool or a.pool).flatten(1)


enc = Encoder()
rep = filters[-1] * a.pool * a.pool
head_layers, c = [], rep
for i, u in enumerate(int(v) for v in a.head.split(',')):
    head_layers += ([nn.ReLU()] if i else []) + [nn.Linear(c, u)]
    c = u
head = nn.Sequential(*head_layers)
model = nn.ModuleList([enc, head])
print('params', sum(q.numel() for q in model.parameters()), 'representation', rep, flush=True)


def augment(x):
    """Crop + rotation + translation + flip in one warp, brightness/contrast, blur, noise, clip."""
    n = x.shape[0]
    area = torch.empty(n).uniform_(a.crop, 1)
    ratio = torch.empty(n).uniform_(math.log(3 / 4), math.log(4 / 3)).exp()
    sx, sy = (area * ratio).sqrt().clamp(max=1), (area / ratio).sqrt().clamp(max=1)
    dx = torch.empty(n).uniform_(-1, 1) * (1 - sx) + torch.empty(n).uniform_(-1, 1) * a.trans * 2
    dy = torch.empty(n).uniform_(-1, 1) * (1 - sy) + torch.empty(n).uniform_(-1, 1) * a.trans * 2
    th = torch.empty(n).uniform_(-1, 1) * a.rot * math.pi / 180
    f = torch.where(torch.rand(n) < 0.5 * a.flip, -1.0, 1.0)
    cos, sin = th.cos(), th.sin()
    T = torch.stack([torch.stack([cos * sx * f, -sin * sy, dx], 1), torch.stack([sin * sx * f, cos * sy, dy], 1)], 1)
    x = F.grid_sample(x, F.affine_grid(T, x.shape, align_corners=False), align_corners=False)
    jitter = (torch.rand(n) < a.jitter_p).float().view(n, 1, 1, 1)
    xj = x * torch.empty(n, 1, 1, 1).uniform_(max(0, 1 - a.bright), 1 + a.bright)
    mean = xj.mean((2, 3), keepdim=True)
    xj = (xj - mean) * torch.empty(n, 1, 1, 1).uniform_(max(0, 1 - a.contrast), 1 + a.contrast) + mean
    x = jitter * xj + (1 - jitter) * x
    if a.blur_p > 0:
        sig = torch.empty(n).uniform_(0.1, 1.2)
        k = torch.arange(5).float() - 2
        w = torch.exp(-k[None] ** 2 / (2 * sig[:, None] ** 2))
        w = w / w.sum(1, keepdim=True)
        blurred = F.conv2d(x.view(1, n, 28, 28), (w[:, :, None] * w[:, None, :])[:, None], padding=2, groups=n)
        on = (torch.rand(n) < a.blur_p).float().view(n, 1, 1, 1)
        x = on * blurred.view(n, 1, 28, 28) + (1 - on) * x
    if a.noise_p > 0:
        x = x + (torch.rand(n) < a.noise_p).float().view(n, 1, 1, 1) * 0.05 * torch.randn_like(x)
    return x.clamp(0, 1)


def ntxent(z1, z2):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    s = z @ z.t() / a.tau
    s.fill_diagonal_(-1e9)
    return F.cross_entropy(s, torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]))


def simclr_loss(x):
    with torch.no_grad():
        v1, v2 = augment(x), augment(x)
    z1, z2 = head(enc(torch.cat([v1, v2]))).chunk(2)
    return ntxent(z1, z2)


@torch.no_grad()
def features(X, pool):
    enc.eval()
    out = torch.cat([enc(X[i:i + 1000], pool) for i in range(0, X.shape[0], 1000)])
    enc.train()
    return out


def logreg(Ftr, ytr, Fva, yva, Fte, yte):
    """Standardised multinomial logistic regression, L-BFGS, C picked on validation accuracy."""
    mu, sd = Ftr.mean(0), Ftr.std(0) + 1e-6
    Ftr, Fva, Fte = (Ftr - mu) / sd, (Fva - mu) / sd, (Fte - mu) / sd
    best = None
    for C in [0.003, 0.01, 0.03, 0.1]:
        W = torch.zeros(Ftr.shape[1], 10, requires_grad=True)
        b = torch.zeros(10, requires_grad=True)
        opt = torch.optim.LBFGS([W, b], max_iter=150, history_size=20, line_search_fn='strong_wolfe', tolerance_grad=1e-6)
        lam = 1 / (C * Ftr.shape[0])

        def closure():
            opt.zero_grad()
            loss = F.cross_entropy(Ftr @ W + b, ytr) + 0.5 * lam * (W * W).sum()
            loss.backward()
            return loss

        opt.step(closure)
        with torch.no_grad():
            va = ((Fva @ W + b).argmax(1) == yva).float().mean().item()
            te = ((Fte @ W + b).argmax(1) == yte).float().mean().item()
        if best is None or va > best[0]:
            best = (va, te, C)
    return best


def labelled_rows():
    """bench:quality's 10,000 labelled rows, or 80% of a smaller pool (MNIST); the rest pick C."""
    return 10000 if Xtr.shape[0] >= 12000 else int(Xtr.shape[0] * 0.8)


def probe(pools):
    """Accuracy % with 10,000 (or 80% of a smaller pool) and 1,000 labels, and the C picked, per pool grid."""
    res = {}
    for pool in pools:
        Ft, Fe = features(Xtr, pool), features(Xte, pool)
        ntr = labelled_rows()
        big = logreg(Ft[:ntr], Ytr[:ntr], Ft[ntr:], Ytr[ntr:], Fe, Yte)
        low = logreg(Ft[:1000], Ytr[:1000], Ft[ntr:], Ytr[ntr:], Fe, Yte)
        res[str(pool)] = (round(big[1] * 100, 2), round(low[1] * 100, 2), big[2])
    return res


def warmup_cosine(t, total):
    warm = round(0.05 * total)
    if t < warm:
        return a.lr * (t + 1) / warm
    u = (t - warm) / max(1, total - warm)
    return a.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * u)))


def run_central():
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    steps = a.budget // a.batch
    g = torch.Generator().manual_seed(a.seed)
    for s in range(steps):
        for group in opt.param_groups:
            group['lr'] = warmup_cosine(s, steps)
        loss = simclr_loss(Xtr[torch.randperm(Xtr.shape[0], generator=g)[:a.batch]])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if s % 50 == 0:
            print(f'step {s}/{steps} loss {loss.item():.3f} {time.time() - t0:.0f}s', flush=True)
    return steps * a.batch


def run_supervised():
    """The ceiling: encoder + linear softmax on the probe's labelled rows only."""
    clf = nn.Linear(rep, 10)
    opt = torch.optim.Adam(list(enc.parameters()) + list(clf.parameters()), lr=a.lr)
    steps = a.budget // a.batch
    labelled = labelled_rows()
    for s in range(steps):
        idx = torch.randint(0, labelled, (a.batch,))
        loss = F.cross_entropy(clf(enc(augment(Xtr[idx]))), Ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if s % 200 == 0:
            print(f'step {s}/{steps} cross-entropy {loss.item():.3f} {time.time() - t0:.0f}s', flush=True)
    return steps * a.batch


def run_fed():
    y = Ytr.numpy()
    if a.alpha > 0:
        shards = [[] for _ in range(a.clients)]
        for c in range(10):
            idx = np.nonzero(y == c)[0]
            rng.shuffle(idx)
            cuts = (np.cumsum(rng.dirichlet([a.alpha] * a.clients)) * len(idx)).astype(int)[:-1]
            for k, part in enumerate(np.split(idx, cuts)):
                shards[k] += part.tolist()
        shards = [np.array(s) for s in shards]
    else:
        shards = np.array_split(rng.permutation(len(y)), a.clients)
    print('shard sizes', [len(s) for s in shards], flush=True)
    survivors = a.clients - round(a.dropout * a.clients)
    per_round = sum(a.local_steps * min(a.client_batch, len(s)) for s in shards) * (1 - a.dropout)
    rounds = max(1, round(a.budget / per_round))
    g = nn.utils.parameters_to_vector(model.parameters()).detach().clone()
    images = clipped = 0
    m, v = torch.zeros_like(g), torch.full_like(g, a.server_tau**2)
    client_opts = {}  # vector_to_parameters keeps the Parameter objects, so an optimizer's state survives rounds
    for r in range(rounds):
        acc, wsum = torch.zeros_like(g), 0
        for k in rng.permutation(a.clients)[:survivors]:
            s = shards[k]
            if len(s) < 2:
                continue
            nn.utils.vector_to_parameters(g.clone(), model.parameters())
            if a.keep_client_adam:
                if k not in client_opts:
                    client_opts[k] = torch.optim.Adam(model.parameters())
                opt = client_opts[k]
                opt.param_groups[0]['lr'] = warmup_cosine(r, rounds)
            else:
                opt = torch.optim.Adam(model.parameters(), lr=warmup_cosine(r, rounds))
            n = min(a.client_batch, len(s))
            for _ in range(a.local_steps):
                loss = simclr_loss(Xtr[torch.from_numpy(rng.choice(s, n, replace=False))])
                opt.zero_grad()
                loss.backward()
                opt.step()
                images += n
            d = nn.utils.parameters_to_vector(model.parameters()).detach() - g
            if d.norm().item() > a.clip:
                d *= a.clip / d.norm().item()
                clipped += 1
            acc += len(s) * d
            wsum += len(s)
        if a.server_opt == 'adam':
            d = acc / wsum
            m = 0.9 * m + 0.1 * d
            v = 0.99 * v + 0.01 * d * d
            g = g + a.server_lr * m / (v.sqrt() + a.server_tau)
        else:
            g = g + a.server_lr * acc / wsum
        if r % 5 == 0:
            print(f'round {r}/{rounds} loss {loss.item():.3f} images {images} clipped {clipped} {time.time() - t0:.0f}s', flush=True)
    nn.utils.vector_to_parameters(g, model.parameters())
    return images


pools = tuple(int(v) for v in a.pools.split(','))
t0 = time.time()
init = probe(pools) if a.probe_init else None
if init:
    print('init', init, flush=True)
images = {'central': run_central, 'supervised': run_supervised, 'fed': run_fed}[a.mode]()
final = probe(pools)
print('final', final, f'{time.time() - t0:.0f}s', flush=True)
with open(f'{a.data}/results.jsonl', 'a') as fh:
    fh.write(json.dumps(dict(args=vars(a), init=init, final=final, images=images, seconds=time.time() - t0)) + '\n')
