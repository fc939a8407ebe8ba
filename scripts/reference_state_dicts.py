#!/usr/bin/env python3
"""Records the state-dict keys and shapes of the paper's three networks as
their reference implementations define them, without PyTorch.

The definitions are read from the packages themselves (facenet-pytorch
2.6.0's `inception_resnet_v1.py`, torchvision 0.20.1's `resnet.py` and
`vgg.py`, fetched with `pip download`) and run against a stand-in `torch`
that only records each layer's parameters and buffers in PyTorch's
state-dict order. The output, one file per network under
`crates/maskface-nets/tests/fixtures/state_dicts/`, is what the tests in
`crates/maskface-nets/tests/paper_cnns.rs` write as PyTorch files and load:

    # params N        (trainable parameters, as sum(p.numel()) counts them)
    key dim dim ...   (one line per state-dict entry, in order)

torchvision's own parameter counts (its weights' `num_params` metadata) are
checked against the recorded ones.

Usage: python3 scripts/reference_state_dicts.py [--wheels DIR] [--out DIR]
"""

import argparse
import glob
import os
import subprocess
import sys
import tempfile
import types
import zipfile

PACKAGES = ["facenet-pytorch==2.6.0", "torchvision==0.20.1"]


class Module:
    """Records children, parameters and buffers in registration order."""

    def __init__(self, *args, **kwargs):
        object.__setattr__(self, "_entries", [])

    def __setattr__(self, name, value):
        if "_entries" not in self.__dict__:
            object.__setattr__(self, "_entries", [])
        if isinstance(value, Module):
            self._entries = [e for e in self._entries if e[0] != name]
            self._entries.append((name, value))
        object.__setattr__(self, name, value)

    def own(self):
        return []

    def state(self, prefix=""):
        for name, shape, trainable in self.own():
            yield prefix + name, shape, trainable
        for name, child in self._entries:
            yield from child.state(prefix + name + ".")

    def modules(self):
        yield self
        for _, child in self._entries:
            yield from child.modules()

    def __getitem__(self, i):
        return self._entries[i][1]

    def __setitem__(self, i, value):
        name = self._entries[i][0]
        self._entries[i] = (name, value)


def pair(k):
    return tuple(k) if isinstance(k, (tuple, list)) else (k, k)


class Conv2d(Module):
    def __init__(self, c_in, c_out, kernel_size, stride=1, padding=0, groups=1, bias=True,
                 dilation=1):
        super().__init__()
        kh, kw = pair(kernel_size)
        self.weight = self.bias = None  # what initialisers are handed
        self.p = [("weight", (c_out, c_in // groups, kh, kw), True)]
        if bias:
            self.p.append(("bias", (c_out,), True))

    def own(self):
        return self.p


class Linear(Module):
    def __init__(self, c_in, c_out, bias=True):
        super().__init__()
        self.weight = self.bias = None
        self.p = [("weight", (c_out, c_in), True)]
        if bias:
            self.p.append(("bias", (c_out,), True))

    def own(self):
        return self.p


class BatchNorm(Module):
    def __init__(self, n, eps=1e-5, momentum=0.1, affine=True):
        super().__init__()
        self.weight = self.bias = None
        self.n = n

    def own(self):
        n = self.n
        return [("weight", (n,), True), ("bias", (n,), True), ("running_mean", (n,), False),
                ("running_var", (n,), False), ("num_batches_tracked", (), False)]


class Sequential(Module):
    def __init__(self, *mods):
        super().__init__()
        for i, m in enumerate(mods):
            setattr(self, str(i), m)


class Stateless(Module):
    pass


def noop(*args, **kwargs):
    return None


def identity_decorator(*args, **kwargs):
    return lambda f: f


class Anything:
    """Stands for every name a definition file imports but never uses to build layers."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return Anything()

    def __getattr__(self, name):
        return Anything()


def install_fake_torch():
    nn = types.ModuleType("torch.nn")
    for name, value in dict(
        Module=Module, Conv2d=Conv2d, Linear=Linear, BatchNorm2d=BatchNorm,
        BatchNorm1d=BatchNorm, Sequential=Sequential, ReLU=Stateless, MaxPool2d=Stateless,
        AdaptiveAvgPool2d=Stateless, Dropout=Stateless, GroupNorm=BatchNorm,
        init=types.SimpleNamespace(kaiming_normal_=noop, constant_=noop, normal_=noop),
        functional=Anything(),
    ).items():
        setattr(nn, name, value)
    torch = types.ModuleType("torch")
    torch.nn = nn
    torch.Tensor = Anything
    torch.device = noop
    torch.flatten = noop
    torch.cat = noop
    sys.modules.update({"torch": torch, "torch.nn": nn, "torch.nn.functional": nn.functional})
    for name in ["requests", "requests.adapters", "torchvision", "torchvision.transforms",
                 "torchvision.transforms._presets", "torchvision.utils", "torchvision.models",
                 "torchvision.models._api", "torchvision.models._meta",
                 "torchvision.models._utils", "facenet_pytorch", "facenet_pytorch.models",
                 "facenet_pytorch.models.utils", "facenet_pytorch.models.utils.download"]:
        module = types.ModuleType(name)
        module.__path__ = []
        module.__getattr__ = lambda attr: Anything()
        sys.modules[name] = module
    api = sys.modules["torchvision.models._api"]
    api.register_model = identity_decorator
    api.Weights = lambda **kwargs: kwargs
    api.WeightsEnum = object
    sys.modules["torchvision.models._utils"].handle_legacy_interface = identity_decorator
    sys.modules["torchvision.models._meta"]._IMAGENET_CATEGORIES = []


def load(wheel, path, module_name):
    source = zipfile.ZipFile(wheel).read(path).decode()
    module = types.ModuleType(module_name)
    module.__package__ = module_name.rsplit(".", 1)[0]
    exec(compile(source, path, "exec"), module.__dict__)
    return module


def write(out, name, net):
    entries = list(net.state())
    params = sum(prod(shape) for _, shape, trainable in entries if trainable)
    with open(os.path.join(out, name + ".txt"), "w") as f:
        f.write(f"# params {params}\n")
        for key, shape, _ in entries:
            f.write(" ".join([key, *map(str, shape)]) + "\n")
    print(f"{name}: {len(entries)} entries, {params} parameters")
    return params


def prod(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels", help="folder with the two packages' wheels (default: pip download)")
    parser.add_argument("--out", default="crates/maskface-nets/tests/fixtures/state_dicts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheels = args.wheels or tmp
        if not args.wheels:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                            "--only-binary=:all:", "--python-version", "3.11",
                            "--platform", "manylinux1_x86_64", "-d", tmp, *PACKAGES], check=True)
        facenet = glob.glob(os.path.join(wheels, "facenet_pytorch-2.6.0-*.whl"))[0]
        vision = glob.glob(os.path.join(wheels, "torchvision-0.20.1-*.whl"))[0]
        install_fake_torch()
        irv1 = load(facenet, "facenet_pytorch/models/inception_resnet_v1.py",
                    "facenet_pytorch.models.inception_resnet_v1")
        resnet = load(vision, "torchvision/models/resnet.py", "torchvision.models.resnet")
        vgg = load(vision, "torchvision/models/vgg.py", "torchvision.models.vgg")

    os.makedirs(args.out, exist_ok=True)
    write(args.out, "inception_resnet_v1", irv1.InceptionResnetV1())
    # The VGGFace2 file carries its 8631-way logits layer.
    write(args.out, "inception_resnet_v1_vggface2",
          irv1.InceptionResnetV1(classify=True, num_classes=8631))
    n = write(args.out, "resnet50", resnet.ResNet(resnet.Bottleneck, [3, 4, 6, 3]))
    assert n == resnet.ResNet50_Weights.IMAGENET1K_V1["meta"]["num_params"], n
    net = vgg.VGG(vgg.make_layers(vgg.cfgs["D"], batch_norm=False))
    n = write(args.out, "vgg16", net)
    assert n == vgg.VGG16_Weights.IMAGENET1K_V1["meta"]["num_params"], n
    # The paper's surgery: batch norms for the dropouts, 1024 hidden units, 50 classes.
    net.classifier[2] = BatchNorm(4096)
    net.classifier[3] = Linear(4096, 1024)
    net.classifier[5] = BatchNorm(1024)
    net.classifier[6] = Linear(1024, 50)
    write(args.out, "vgg16_paper_50", net)


if __name__ == "__main__":
    main()
