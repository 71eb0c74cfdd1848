"""Reference for BENCHMARKS.md: trains the paper's MNIST CNN with PyTorch exactly as
../shared/anchors/train_ref_torch.py does (SGD lr 0.01, batch 300, no shuffling), printing test accuracy
after every epoch, then PGD-20 robust accuracy (step 0.01, start at 0) at several eps on the first N test
images. One JSON line per measurement.
usage: python mnist_standard_then_pgd.py --data DIR --epochs 10 --eps 0.1,0.2,0.3 --eval-pgd 1000 [--seed S]
"""
import argparse, json, os, sys, time
import torch, torch.nn.functional as F
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../../shared/anchors"))
import train_ref_torch as ref  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True); ap.add_argument("--epochs", type=int, default=10)
ap.add_argument("--eps", default="0.1,0.2,0.3"); ap.add_argument("--eval-pgd", type=int, default=1000)
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
torch.manual_seed(a.seed)
xt, yt, xs, ys = map(torch.from_numpy, ref.load_mnist(a.data))
model = ref.MnistCNN(); ref.init(model)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
t0 = time.time()
for ep in range(1, a.epochs + 1):
    for b in range(len(xt) // 300):
        x, y = xt[b * 300:(b + 1) * 300], yt[b * 300:(b + 1) * 300]
        opt.zero_grad(); F.cross_entropy(model(x), y).backward(); opt.step()
    with torch.no_grad():
        acc = sum((model(xs[j:j + 1000]).argmax(1) == ys[j:j + 1000]).sum().item() for j in range(0, len(xs), 1000)) / len(xs)
    print(json.dumps({"seed": a.seed, "epoch": ep, "test_accuracy": round(acc, 4), "elapsed_s": round(time.time() - t0, 1)}), flush=True)
n = a.eval_pgd
for eps in [float(e) for e in a.eps.split(",")]:
    xa = ref.pgd(model, xs[:n], ys[:n], eps, 0.01, 20)
    with torch.no_grad():
        r = (model(xa).argmax(1) == ys[:n]).float().mean().item()
    print(json.dumps({"seed": a.seed, "eps": eps, "pgd20_accuracy": round(r, 4), "examples": n}), flush=True)
