"""Peer for GpuBench (bench/ConvKit.GpuCheck/GpuBench.cs): the same cases in PyTorch on the same device.
Usage: gpu_torch.py DEVICE THREADS CONV_BATCH RESNET_BATCH RESNET_SIZE LENET_IMAGES WARMUP REPEATS (DEVICE: cuda or cpu).
Prints '<case> <median seconds>', '<case>_tf32 <seconds>' (cuda, conv and ResNet cases), '<case>_peak_mb <MB>' and
'torch <about>'; or one line 'unavailable <reason>' (exit 0) when torch, or CUDA for cuda, is missing, so the caller
can try another Python. Times are medians after warm-up, synchronised on cuda before each clock read."""
import resource
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:
    print(f"unavailable no torch ({e})")
    sys.exit(0)

device, threads = sys.argv[1], int(sys.argv[2])
conv_batch, resnet_batch, resnet_size, lenet_images, warmup, repeats = map(int, sys.argv[3:9])
if device == "cuda" and not torch.cuda.is_available():
    print(f"unavailable torch {torch.__version__} has no CUDA device (torch.cuda.is_available() is False)")
    sys.exit(0)
try:
    import torchvision
except ImportError:
    torchvision = None  # the ResNet-18 rows then read n/a

cuda = device == "cuda"
torch.set_num_threads(threads)
torch.manual_seed(0)
torch.backends.cudnn.benchmark = True  # PyTorch at its best: cuDNN picks its fastest algorithm per shape
EPOCH = 60_000


def sync():
    if cuda:
        torch.cuda.synchronize()


def reset_peak():
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    else:
        try:  # resets VmHWM, as the C# side does (ru_maxrss cannot be reset), so each case has its own peak
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass


def peak_mb():
    if cuda:
        return torch.cuda.max_memory_reserved() / 2**20
    try:
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_seconds(fn, warmup=warmup, repeats=repeats):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def set_tf32(on):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on  # on by default in PyTorch: fp32 must turn it off


def measure(key, prepare, tf32=True):
    print(f"torch peer: {key}", file=sys.stderr)
    reset_peak()
    set_tf32(False)
    fn = prepare()
    print(key, median_seconds(fn), flush=True)
    print(f"{key}_peak_mb", peak_mb(), flush=True)
    if cuda and tf32:
        set_tf32(True)
        print(f"{key}_tf32", median_seconds(fn), flush=True)
        set_tf32(False)


def conv_forward():
    x = torch.randn(conv_batch, 64, 56, 56, device=device)
    w = torch.randn(64, 64, 3, 3, device=device) * 0.05
    b = torch.randn(64, device=device)

    def run():
        with torch.no_grad():
            F.conv2d(x, w, b, padding=1)
    return run


def conv_forward_backward():
    x = torch.randn(conv_batch, 64, 56, 56, device=device, requires_grad=True)
    w = (torch.randn(64, 64, 3, 3, device=device) * 0.05).requires_grad_()
    b = torch.randn(64, device=device, requires_grad=True)
    upstream = torch.randn(conv_batch, 64, 56, 56, device=device)

    def run():
        x.grad = w.grad = b.grad = None
        F.conv2d(x, w, b, padding=1).backward(upstream)
    return run


def inference(batch):
    def prepare():
        model = torchvision.models.resnet18(num_classes=1000).to(device).eval()
        x = torch.randn(batch, 3, resnet_size, resnet_size, device=device)

        def run():
            with torch.no_grad():
                model(x)
        return run
    return prepare


def train_step():
    model = torchvision.models.resnet18(num_classes=1000).to(device).train()
    x = torch.randn(resnet_batch, 3, resnet_size, resnet_size, device=device)
    y = torch.arange(resnet_batch, device=device) * 7 % 1000
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def run():
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return run


class LeNet5(nn.Module):
    """ConvKit's lenet5 (bench/ConvKit.Bench/peers/zoo_models.py, copied so this peer needs no torchvision)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2))
        self.classifier = nn.Sequential(nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def lenet_epoch():
    model = LeNet5().to(device).train()
    data = torch.randn(lenet_images, 1, 32, 32, device=device)
    labels = torch.arange(lenet_images, device=device) * 7 % 10
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def run():  # data already on the device, no host read per batch, as on the C# side
        for start in range(0, lenet_images, 64):
            loss = F.cross_entropy(model(data[start:start + 64]), labels[start:start + 64])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return run


name = torch.cuda.get_device_name(0) if cuda else f"cpu, {torch.get_num_threads()} threads"
print(f"torch {torch.__version__} on {name}" + ("" if torchvision else ", no torchvision: ResNet-18 rows n/a")
      + (f", CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, cudnn.benchmark" if cuda else ""), flush=True)
measure("conv_forward", conv_forward)
measure("conv_forward_backward", conv_forward_backward)
if torchvision:
    measure("resnet18_infer_b1", inference(1))
    measure(f"resnet18_infer_b{resnet_batch}", inference(resnet_batch))
    measure(f"resnet18_train_b{resnet_batch}", train_step)
reset_peak()
seconds = median_seconds(lenet_epoch(), 1, min(repeats, 3))  # an epoch is long: as on the C# side
print("lenet5_epoch", seconds * EPOCH / lenet_images)
print("lenet5_epoch_peak_mb", peak_mb())
