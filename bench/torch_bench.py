#!/usr/bin/python3
"""PyTorch and numpy side of dendrite's benchmark (peers), one workload per process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=2 \
        /usr/bin/python3 bench/torch_bench.py --system pytorch --workload mlp --omp 1 ...

Options and the measurement policy mirror bench/common.ts (the runner, bench/run.ts, passes the
same options to every system); prints progress on stderr and one line `RESULT {json}` on stdout.
Thread settings come from the environment the runner sets (OMP_NUM_THREADS for PyTorch's OpenMP
intra-op threads, OPENBLAS_NUM_THREADS for the BLAS) plus torch.set_num_threads(--omp).
"""
import argparse
import gzip
import json
import os
import resource
import statistics
import sys
import time

import numpy as np


def progress(msg):
    sys.stderr.write(f"  · {msg}\n")
    sys.stderr.flush()


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(result):
    result["peakRssMiB"] = peak_rss_mib()
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--workload", required=True, choices=["gemm", "mlp", "cnn", "lstm", "infer", "attn"])
    p.add_argument("--system", default="pytorch", choices=["pytorch", "numpy"])
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--text", default="")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--warmup-cap", type=float, default=1e9)
    p.add_argument("--batches", type=int, default=0)
    p.add_argument("--slow-rate", type=float, default=100)
    p.add_argument("--slow-batches", type=int, default=200)
    p.add_argument("--cap", type=float, default=1e9)
    p.add_argument("--acc-epochs", type=int, default=0)
    p.add_argument("--acc-budget", type=float, default=900)
    p.add_argument("--infer-calls", type=int, default=10000)
    p.add_argument("--infer-batch-calls", type=int, default=50)
    p.add_argument("--gemm-sizes", default="256,512,1024")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--omp", type=int, default=1)
    p.add_argument("--blas", type=int, default=1)
    return p.parse_args()


# ------------------------------------------------------------------ data

def read_idx(path, dims):
    for p in (path + ".gz", path):
        if os.path.exists(p):
            with (gzip.open(p, "rb") if p.endswith(".gz") else open(p, "rb")) as f:
                buf = f.read()
            break
    else:
        raise FileNotFoundError(f"{path}(.gz) not found")
    if buf[0] != 0 or buf[1] != 0 or buf[2] != 8 or buf[3] != dims:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes with {dims} dimension(s)")
    shape = [int.from_bytes(buf[4 + 4 * d:8 + 4 * d], "big") for d in range(dims)]
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion(o):
    t0 = time.perf_counter()
    out = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        x = read_idx(os.path.join(o.data, f"{prefix}-images-idx3-ubyte"), 3)
        y = read_idx(os.path.join(o.data, f"{prefix}-labels-idx1-ubyte"), 1)
        out[split] = ((x.reshape(len(x), 784).astype(np.float32) / np.float32(255)), y.astype(np.int64))
    progress(f"Fashion-MNIST loaded ({len(out['train'][1])} train / {len(out['test'][1])} test) in {time.perf_counter() - t0:.1f} s")
    return out


LSTM = dict(vocab=64, hidden=128, steps=32, batch=32, lr=0.1)


def text_symbols(path):
    """Same mapping as bench/common.ts textSymbols: fold case, (code - 32) mod 64."""
    raw = np.frombuffer(open(path, "rb").read(), dtype=np.uint8).astype(np.int64) & 127
    raw = np.where((raw >= 97) & (raw <= 122), raw - 32, raw)
    return ((raw - 32) % 64).astype(np.int64)


# ------------------------------------------------------------------ measurement policy

def training_measure(o, batch_size, batches_per_epoch, run, accuracy, unit="examples_per_s"):
    """Mirror of bench/common.ts trainingMeasure."""
    warm_rate = float("inf")
    if o.warmup > 0:
        t0 = time.perf_counter()
        done = run(o.warmup, o.warmup_cap)
        warm_rate = done * batch_size / (time.perf_counter() - t0)
        progress(f"warm-up: {done} batches, {warm_rate:.1f} {unit.replace('_', ' ')}")
    limit = min(o.batches, batches_per_epoch) if o.batches > 0 else batches_per_epoch
    slow = warm_rate < o.slow_rate
    if slow:
        limit = min(limit, o.slow_batches)
    t0 = time.perf_counter()
    done = run(limit, o.cap)
    seconds = time.perf_counter() - t0
    rate = done * batch_size / seconds
    progress(f"timed: {done} batches in {seconds:.2f} s, {rate:.1f} {unit.replace('_', ' ')}")
    metrics = {unit: rate}
    info = dict(timed_batches=done, timed_seconds=seconds, full_epoch=done == batches_per_epoch, slow=slow)
    if o.acc_epochs > 0 and done == batches_per_epoch:
        epochs = 1
        if o.acc_epochs > 1 and (o.acc_epochs - 1) * seconds <= o.acc_budget:
            while epochs < o.acc_epochs:
                run(batches_per_epoch, 1e9)
                epochs += 1
                progress(f"epoch {epochs} done")
        metrics["accuracy"] = accuracy()
        info["acc_epochs"] = epochs
        progress(f"test accuracy after {epochs} epoch(s) (+{o.warmup} warm-up batches): {metrics['accuracy']:.4f}")
    return metrics, info


def step_loop(step):
    """A run(batches, stop_after) for training_measure that calls step() once per batch."""
    def run(batches, stop_after):
        t0 = time.perf_counter()
        done = 0
        while done < batches and time.perf_counter() - t0 <= stop_after:
            step()
            done += 1
        return done
    return run


def median_call(call, min_calls, max_calls, min_seconds):
    times = []
    t0 = time.perf_counter()
    while len(times) < max_calls and (len(times) < min_calls or time.perf_counter() - t0 < min_seconds):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def gemm(o, matmul, make):
    out = {}
    for n in [int(s) for s in o.gemm_sizes.split(",")]:
        rng = np.random.default_rng(n)
        a = make(rng.random((n, n), dtype=np.float32))
        b = make(rng.random((n, n), dtype=np.float32))
        matmul(a, b)
        s = median_call(lambda: matmul(a, b), 5, 200, 1.0)
        out[f"gflops_{n}"] = 2 * n ** 3 / s / 1e9
        progress(f"gemm {n}: {out[f'gflops_{n}']:.1f} GFLOP/s")
    return out


# ------------------------------------------------------------------ PyTorch workloads

ATTN = dict(batch=32, steps=128, width=128, heads=4, ff=512, lr=1e-3)


def torch_main(o):
    import torch
    from torch import nn

    torch.set_num_threads(o.omp)
    torch.manual_seed(o.seed)
    progress(f"PyTorch {torch.__version__}, {torch.get_num_threads()} OpenMP thread(s), OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    info_threads = dict(omp=o.omp, blas=o.blas)

    def he(model):
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
        return model

    def mlp():
        return he(nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)))

    def cnn():
        return he(nn.Sequential(
            nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(512, 10)))

    def train(model, shape):
        d = fashion(o)
        x = torch.from_numpy(d["train"][0]).reshape(-1, *shape)
        y = torch.from_numpy(d["train"][1])
        xt = torch.from_numpy(d["test"][0]).reshape(-1, *shape)
        yt = torch.from_numpy(d["test"][1])
        n = len(y)
        bs = 64
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        lossf = nn.CrossEntropyLoss()
        gen = torch.Generator().manual_seed(o.seed)

        def run(batches, stop_after):
            t0 = time.perf_counter()
            perm = torch.randperm(n, generator=gen)
            done = 0
            while done < batches and time.perf_counter() - t0 <= stop_after:
                idx = perm[done * bs:(done + 1) * bs]
                opt.zero_grad(set_to_none=True)
                loss = lossf(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
                done += 1
            return done

        def accuracy():
            with torch.no_grad():
                return (model(xt).argmax(1) == yt).float().mean().item()

        metrics, info = training_measure(o, bs, (n + bs - 1) // bs, run, accuracy)
        return metrics, {**info, **info_threads}

    if o.workload == "gemm":
        torch.set_grad_enabled(False)
        return gemm(o, lambda a, b: a @ b, torch.from_numpy), dict(threads=o.threads, **info_threads)
    if o.workload == "mlp":
        return train(mlp(), (784,))
    if o.workload == "cnn":
        return train(cnn(), (1, 28, 28))
    if o.workload == "infer":
        model = nn.Sequential(mlp(), nn.Softmax(dim=1)).eval()
        rng = np.random.default_rng(7)
        one = torch.from_numpy(rng.random((1, 784), dtype=np.float32))
        many = torch.from_numpy(rng.random((1000, 784), dtype=np.float32))
        with torch.inference_mode():
            for _ in range(min(1000, o.infer_calls)):
                model(one)
            times = []
            for _ in range(o.infer_calls):
                t = time.perf_counter()
                model(one)
                times.append(time.perf_counter() - t)
            for _ in range(3):
                model(many)
            per_batch = median_call(lambda: model(many), min(5, o.infer_batch_calls), o.infer_batch_calls, 2.0)
        return dict(latency_us=statistics.median(times) * 1e6, batch1000_examples_per_s=1000 / per_batch), info_threads
    if o.workload == "lstm":
        V, H, T, B = LSTM["vocab"], LSTM["hidden"], LSTM["steps"], LSTM["batch"]
        sym = text_symbols(o.text)
        rnn = nn.LSTM(V, H)
        head = nn.Linear(H, V)
        params = list(rnn.parameters()) + list(head.parameters())
        opt = torch.optim.SGD(params, lr=LSTM["lr"])
        lossf = nn.CrossEntropyLoss()
        eye = torch.eye(V)
        state = dict(next=0)

        def batch():
            j = np.arange(state["next"] * B, state["next"] * B + B)
            state["next"] += 1
            starts = (j * T) % (len(sym) - T - 1)
            seq = torch.from_numpy(sym[starts[:, None] + np.arange(T + 1)])  # [B, T+1]
            x = eye[seq[:, :T].t()]  # [T, B, V] one-hot
            y = seq[:, 1:].t().reshape(-1)  # [T*B], step-major
            return x, y

        def step():
            x, y = batch()
            opt.zero_grad(set_to_none=True)
            out, _ = rnn(x)
            loss = lossf(head(out.reshape(T * B, H)), y)
            loss.backward()
            opt.step()

        run = step_loop(step)
        o.acc_epochs = 0
        metrics, info = training_measure(o, B, sys.maxsize, run, None, "sequences_per_s")
        metrics["timesteps_per_s"] = metrics["sequences_per_s"] * T
        return metrics, {**info, **info_threads}

    if o.workload == "attn":
        # W-ATTN: one pre-norm encoder block, GELU, no dropout; loss = mean squared output; Adam 1e-3
        B, T, F = ATTN["batch"], ATTN["steps"], ATTN["width"]
        block = nn.TransformerEncoderLayer(F, ATTN["heads"], ATTN["ff"], dropout=0.0, activation="gelu",
                                           norm_first=True, batch_first=True)
        opt = torch.optim.Adam(block.parameters(), lr=ATTN["lr"])
        x = torch.randn(B, T, F)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = block(x).square().mean()
            loss.backward()
            opt.step()

        run = step_loop(step)
        o.acc_epochs = 0
        metrics, info = training_measure(o, B, sys.maxsize, run, None, "sequences_per_s")
        return metrics, {**info, **info_threads}
    raise ValueError(o.workload)


def numpy_main(o):
    if o.workload != "gemm":
        raise ValueError(f"numpy is measured on W-GEMM only, not {o.workload}")
    progress(f"numpy {np.__version__}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    return gemm(o, lambda a, b: a @ b, lambda a: a), dict(threads=o.threads)


def main():
    o = parse()
    try:
        metrics, info = (torch_main if o.system == "pytorch" else numpy_main)(o)
        emit(dict(workload=o.workload, system=o.system, metrics=metrics, info=info))
    except Exception as e:  # report, so that one failing peer does not stop the run
        import traceback
        traceback.print_exc()
        emit(dict(workload=o.workload, system=o.system, metrics={}, info={}, error=f"{type(e).__name__}: {e}"))


if __name__ == "__main__":
    main()
