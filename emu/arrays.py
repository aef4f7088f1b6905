"""What the batched engine's generated code (emu/generated_batch.py) uses on
NumPy arrays: words as uint32, lane offsets, and memory reads and writes that
mark the images whose address falls outside memory as faulting."""

from __future__ import annotations

import numpy as np

from asm import isa

W = np.uint32
LANES = np.arange(isa.VLEN, dtype=np.int64)[:, None]


def gather(fx, M: np.ndarray, addr: np.ndarray) -> np.ndarray:
    """Each image's memory word at its address (a row of addresses, or a
    block of them for a vector); out of range: the image faults."""
    ok = addr < M.shape[1]
    if not ok.all():
        fx.fault(~ok if addr.ndim == 1 else ~ok.all(axis=0))
        if M.shape[1] == 0:  # empty images: every image faulted, nothing to read
            return np.zeros(addr.shape, dtype=M.dtype)
        addr = np.where(ok, addr, 0)
    return M[fx.cols, addr]


def scatter(fx, M: np.ndarray, addr: np.ndarray, values: np.ndarray) -> None:
    """Memory writes to commit after the bundle; out of range: the image faults."""
    # A copy: `addr` may be a row of scratch that this bundle writes before
    # its memory writes are committed.
    addr = np.array(addr, dtype=np.int64)
    ok = addr < M.shape[1]
    if not ok.all():
        fx.fault(~ok if addr.ndim == 1 else ~ok.all(axis=0))
        addr = np.where(ok, addr, 0)
    if addr.ndim == 1:
        fx.mem.append((addr, values))
    else:  # lane by lane, so the last lane wins a repeated address, as in order
        for lane in range(addr.shape[0]):
            fx.mem.append((addr[lane], values[lane]))


def words(v, shape) -> np.ndarray:
    """A result as uint32 words of `shape` (images in the last axis): most
    already are; a constant is spread, a comparison's booleans made 1 or 0."""
    if type(v) is np.ndarray and v.dtype == W and v.shape == shape:
        return v
    return np.broadcast_to(v, shape).astype(W)
