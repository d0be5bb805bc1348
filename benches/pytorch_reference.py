#!/usr/bin/env python3
"""The default job in PyTorch, for comparing speed with `trainer bench train`.

Same model (784-100-10 MLP, ReLU), same optimizer (SGD lr 0.1, momentum 0.9, Nesterov), same
schedule (StepLR(step_size=4, gamma=0.96) stepped after each epoch), batch 256, shuffled.
The data is pre-loaded once as one float tensor (pixels / 255), so the timing is of the training
itself, not of a DataLoader. Prints seconds per training epoch and per test pass.

    pip install torch numpy
    python3 benches/pytorch_reference.py [--data-dir data/fashion-mnist] [--epochs 5] [--threads 2]
"""

import argparse
import gzip
import os
import statistics
import struct
import time

import numpy as np
import torch
import torch.nn as nn


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, f"{path}: not a u8 IDX file"
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir, prefix):
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
    return x, torch.from_numpy(labels.astype(np.int64))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=os.path.join(here, "..", "data", "fashion-mnist"))
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x_train, y_train = load(args.data_dir, "train")
    x_test, y_test = load(args.data_dir, "t10k")

    net = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.96)
    loss_fn = nn.CrossEntropyLoss()
    n, batch = len(x_train), 256

    train_times, test_times = [], []
    for epoch in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(n)
        for i in range(0, n, batch):
            idx = order[i : i + batch]
            opt.zero_grad()
            loss = loss_fn(net(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
        train_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        with torch.no_grad():
            out = net(x_test)
            test_loss = loss_fn(out, y_test).item()
            acc = 100.0 * (out.argmax(1) == y_test).float().mean().item()
        test_times.append(time.perf_counter() - start)
        sched.step()
        print(f"epoch {epoch + 1}: train {train_times[-1]:.3f} s, test pass {test_times[-1]:.4f} s, "
              f"test loss {test_loss:.4f}, test accuracy {acc:.2f}%")
    print(f"torch {torch.__version__}, {args.threads} threads")
    print(f"median train epoch {statistics.median(train_times):.3f} s, "
          f"median test pass {statistics.median(test_times):.4f} s")


if __name__ == "__main__":
    main()
