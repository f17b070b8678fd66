"""An object graph as named numpy arrays plus a small JSON-able tree, and back.

What a checkpoint holds: every array under the attribute path that reaches it ("live/ledger/
_arrays/sales"), and the rest (scalars, strings, enums, datetimes, random generator states, the
shape of the graph) in a tree of plain JSON types. A list of like dataclasses with plain fields
(pending predictions, for instance) is stored column by column. Only classes of this backend
are rebuilt; an object reached twice is stored once and comes back shared.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections import deque
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any

import numpy as np

PLAIN = (type(None), bool, int, float, str)
Skip = Callable[[object, str], bool]


def _qualname(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _class(path: str) -> type[Any]:
    module, _, name = path.partition(":")
    if not module.startswith("backend."):
        raise ValueError(f"checkpoint: expected a class of this backend, got {path!r}")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type):
        raise ValueError(f"checkpoint: expected a class at {path!r}, got {type(obj).__name__}")
    return obj


def _columns(items: list[Any] | tuple[Any, ...]) -> dict[str, np.ndarray] | None:
    """Columns of a list of two or more instances of one dataclass with plain values, else None."""
    if len(items) < 2 or not dataclasses.is_dataclass(items[0]) or isinstance(items, tuple):
        return None
    cls = type(items[0])
    if any(type(x) is not cls for x in items):
        return None
    names = list(vars(items[0]))
    if not all(isinstance(v, PLAIN) and v is not None for v in vars(items[0]).values()):
        return None
    columns = {f: np.array([getattr(x, f) for x in items]) for f in names}
    return None if any(c.dtype.kind == "O" for c in columns.values()) else columns


class _Writer:
    def __init__(self, skip: Skip | None) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.seen: dict[int, str] = {}
        self.skip = skip

    def array(self, path: str, value: np.ndarray) -> dict[str, Any]:
        if value.dtype.kind == "O":
            raise ValueError(f"checkpoint: {path} is an object array; expected plain values")
        self.arrays[path] = np.array(value, copy=True, order="C")
        return {"__array__": path}

    def walk(self, value: Any, path: str) -> Any:
        if isinstance(value, Enum):
            return {"__enum__": _qualname(type(value)), "value": value.value}
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, PLAIN):
            return value
        if isinstance(value, datetime):
            return {"__datetime__": value.isoformat()}
        if id(value) in self.seen:
            return {"__ref__": self.seen[id(value)]}
        self.seen[id(value)] = path
        if isinstance(value, np.ndarray):
            return self.array(path, value)
        if isinstance(value, np.random.Generator):
            return {"__rng__": value.bit_generator.state}
        if isinstance(value, dict):
            if all(isinstance(k, str) for k in value):
                return {"__map__": {k: self.walk(v, f"{path}/{k}") for k, v in value.items()}}
            return {
                "__pairs__": [
                    [self.walk(k, f"{path}/k{i}"), self.walk(v, f"{path}/{i}")]
                    for i, (k, v) in enumerate(value.items())
                ]
            }
        if isinstance(value, deque):
            items = [self.walk(v, f"{path}/{i}") for i, v in enumerate(value)]
            return {"__deque__": items, "maxlen": value.maxlen}
        if isinstance(value, (list, tuple)):
            columns = _columns(value)
            if columns is not None:
                refs = {f: self.array(f"{path}/{f}", c) for f, c in columns.items()}
                return {"__columns__": _qualname(type(value[0])), "fields": refs}
            items = [self.walk(v, f"{path}/{i}") for i, v in enumerate(value)]
            return items if isinstance(value, list) else {"__tuple__": items}
        if hasattr(value, "__dict__") and type(value).__module__.startswith("backend."):
            fields = {
                k: self.walk(v, f"{path}/{k}")
                for k, v in vars(value).items()
                if not (self.skip and self.skip(value, k))
            }
            return {"__object__": _qualname(type(value)), "fields": fields}
        raise ValueError(f"checkpoint: cannot store {type(value).__name__} at {path}")


def flatten(obj: Any, skip: Skip | None = None) -> tuple[Any, dict[str, np.ndarray]]:
    """(tree, arrays): copies of every array, so the caller may release the object at once.

    skip(obj, attribute) leaves an attribute out (state kept elsewhere, restored by its owner).
    """
    w = _Writer(skip)
    return w.walk(obj, ""), w.arrays


class _Reader:
    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.made: dict[str, Any] = {}

    def walk(self, node: Any, path: str) -> Any:
        if isinstance(node, PLAIN):
            return node
        if isinstance(node, list):
            return [self.walk(v, f"{path}/{i}") for i, v in enumerate(node)]
        (tag,) = (k for k in node if k.startswith("__"))
        if tag == "__ref__":
            return self.made[node["__ref__"]]
        if tag == "__enum__":
            return _class(node["__enum__"])(node["value"])
        if tag == "__datetime__":
            return datetime.fromisoformat(node["__datetime__"])
        if tag == "__array__":
            out: Any = self.arrays[node["__array__"]]
        elif tag == "__rng__":
            state = node["__rng__"]
            out = np.random.Generator(getattr(np.random, state["bit_generator"])())
            out.bit_generator.state = state
        elif tag == "__map__":
            out = {k: self.walk(v, f"{path}/{k}") for k, v in node["__map__"].items()}
        elif tag == "__pairs__":
            out = {
                self.walk(k, f"{path}/k{i}"): self.walk(v, f"{path}/{i}")
                for i, (k, v) in enumerate(node["__pairs__"])
            }
        elif tag == "__deque__":
            items = [self.walk(v, f"{path}/{i}") for i, v in enumerate(node["__deque__"])]
            out = deque(items, maxlen=node["maxlen"])
        elif tag == "__tuple__":
            out = tuple(self.walk(v, f"{path}/{i}") for i, v in enumerate(node["__tuple__"]))
        elif tag == "__columns__":
            cls = _class(node["__columns__"])
            cols = {f: self.arrays[ref["__array__"]].tolist() for f, ref in node["fields"].items()}
            out = []
            for values in zip(*cols.values()):
                item = object.__new__(cls)
                item.__dict__.update(zip(cols, values))
                out.append(item)
        elif tag == "__object__":
            cls = _class(node["__object__"])
            out = object.__new__(cls)
            self.made[path] = out  # before its fields: a field may point back at it
            out.__dict__.update({k: self.walk(v, f"{path}/{k}") for k, v in node["fields"].items()})
        else:
            raise ValueError(f"checkpoint: unknown node {tag!r} at {path}")
        self.made[path] = out
        return out


def unflatten(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The object graph flatten() described, built from its tree and arrays."""
    return _Reader(arrays).walk(tree, "")


SPARSE_SHARE = 0.25  # an integer array with fewer nonzeros than this is stored as (index, value)


def pack(tree: Any, arrays: dict[str, np.ndarray], prefix: bytes = b"") -> bytes:
    """One buffer: an 8-byte header length, the JSON header (tree, array names, dtypes, shapes),
    then every array's bytes in order, 8-byte aligned. Integer arrays that are mostly zeros
    (cohorts of stock by age, say) go as the flat positions and values of their nonzeros.
    `prefix` goes first (a caller's magic), joined in the same copy."""
    index: list[list[Any]] = []
    chunks: list[bytes | memoryview] = []
    offset = 0
    for name, a in arrays.items():
        a = np.asarray(a)
        a = a if a.flags.c_contiguous else a.copy(order="C")  # (ascontiguousarray makes 0-d 1-d)
        entry: list[Any] = [name, a.dtype.str, list(a.shape), offset]
        parts = [a]
        if a.dtype.kind in "iu" and a.size > 1024:
            nonzero = a != 0  # counted, then found, on booleans: several times cheaper
            if np.count_nonzero(nonzero) < SPARSE_SHARE * a.size:
                where = np.flatnonzero(nonzero)
                parts = [where.astype(np.int64), a.reshape(-1)[where]]
                entry.append(int(where.size))
        for part in parts:
            pad = -part.nbytes % 8
            chunks += [part.reshape(-1).view(np.uint8).data, b"\0" * pad]
            offset += part.nbytes + pad
        index.append(entry)
    header = json.dumps({"tree": tree, "arrays": index}, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    return b"".join([prefix, len(header).to_bytes(8, "little"), header, *chunks])


def unpack(data: bytes | memoryview) -> tuple[Any, dict[str, np.ndarray]]:
    """(tree, arrays) from pack()'s buffer; the arrays are writable copies."""
    view = memoryview(data)
    size = int.from_bytes(view[:8], "little")
    header = json.loads(bytes(view[8 : 8 + size]))
    body = view[8 + size :]
    arrays = {}
    for name, dtype, shape, offset, *sparse in header["arrays"]:
        dt = np.dtype(dtype)
        if sparse:
            (nnz,) = sparse
            where = np.frombuffer(body, dtype=np.int64, count=nnz, offset=offset)
            at = offset + where.nbytes + (-where.nbytes % 8)
            out = np.zeros(int(np.prod(shape, dtype=np.int64)), dtype=dt)
            out[where] = np.frombuffer(body, dtype=dt, count=nnz, offset=at)
            arrays[name] = out.reshape(shape)
            continue
        count = int(np.prod(shape, dtype=np.int64))
        flat = np.frombuffer(body, dtype=dt, count=count, offset=offset)
        arrays[name] = flat.reshape(shape).copy()
    return header["tree"], arrays
