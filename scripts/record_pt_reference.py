#!/usr/bin/env python3
"""Records reference values of facenet-pytorch's MTCNN weight files (pnet.pt,
rnet.pt, onet.pt) for the loader test in crates/maskface-nets.

An independent reader: Python's pickle module with stubs for torch's rebuild
functions, no torch. It reads the legacy (non-zip) torch serialization:
magic number, protocol, system info, the pickled state dict (tensors refer to
storages by key), the list of storage keys, then each storage as an 8-byte
element count and raw little-endian data. Tensors are gathered with their
storage offset and strides, so non-contiguous tensors come out right.

    python3 scripts/record_pt_reference.py models > fixtures/mtcnn/weights_reference.json
"""
import collections
import io
import json
import pickle
import struct
import sys

DTYPES = {"FloatStorage": ("f", 4), "DoubleStorage": ("d", 8), "LongStorage": ("q", 8), "IntStorage": ("i", 4)}


class StorageRef:
    def __init__(self, kind, key, numel):
        self.kind, self.key, self.numel = kind, key, numel
        self.data = None


class TensorRef:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def values(self):
        """Elements in row-major (logical) order, following the strides."""
        out = []

        def walk(dim, base):
            if dim == len(self.size):
                out.append(self.storage.data[base])
                return
            for i in range(self.size[dim]):
                walk(dim + 1, base + i * self.stride[dim])

        walk(0, self.offset)
        return out


def rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    return TensorRef(storage, offset, size, stride)


class Unpickler(pickle.Unpickler):
    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return rebuild_tensor_v2
        if module == "torch" and name.endswith("Storage"):
            return name
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unexpected global {module}.{name}")

    def persistent_load(self, pid):
        # ('storage', storage_type, key, location, numel, view_metadata)
        kind, key, numel = pid[1], pid[2], pid[4]
        if key not in self.storages:
            self.storages[key] = StorageRef(kind, key, numel)
        return self.storages[key]


def read_legacy(path):
    with open(path, "rb") as f:
        raw = f.read()
    f = io.BytesIO(raw)
    magic = pickle.load(f)
    if magic != 0x1950A86A20F9469CFC6C:
        raise SystemExit(f"{path}: not a legacy torch file")
    pickle.load(f)  # protocol version
    pickle.load(f)  # system info
    storages = {}
    state = Unpickler(f, storages).load()
    keys = pickle.load(f)
    for key in keys:
        st = storages[key]
        (numel,) = struct.unpack("<q", f.read(8))
        fmt, width = DTYPES[st.kind]
        st.data = struct.unpack(f"<{numel}{fmt}", f.read(numel * width))
    return state


def main():
    models = sys.argv[1] if len(sys.argv) > 1 else "models"
    out = {}
    for name in ["pnet", "rnet", "onet"]:
        state = read_legacy(f"{models}/{name}.pt")
        tensors = {}
        for key, t in state.items():
            v = t.values()
            expected, acc = [], 1
            for d in reversed(t.size):
                expected.insert(0, acc)
                acc *= d
            tensors[key] = {
                "shape": list(t.size),
                "contiguous": list(t.stride) == expected,
                "sum": sum(v),
                "abs_sum": sum(abs(x) for x in v),
                # elements at flat row-major indices: first, second, middle, last
                "samples": [[i, v[i]] for i in sorted({0, min(1, len(v) - 1), len(v) // 2, len(v) - 1})],
            }
        out[name] = tensors
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
