"""One device helper for every compute path: CUDA, then MPS, then the CPU.

`pick("auto")` (the default everywhere) takes the first accelerator present;
"cpu", "cuda", "cuda:1" or "mps" force one and fail with one line when it is
not there. Precision follows the device: `autocast_dtype` says bfloat16 where
the hardware computes it natively (CUDA GPUs that support it, CPUs with
AVX512-BF16 or AMX) for training; the search stays float32 on the CPU, where
bfloat16 changed top-10 lists. `enable_fast_matmul` allows TF32 on GPUs.
`describe` names the machine for benchmark lines: the GPU model and count, or
the CPU model, its cores and the vector extensions that decide its speed.
"""

from __future__ import annotations

import os
import platform
import sys
from functools import cache

import torch

from sidrec.errors import SidrecError

DEVICES = ("auto", "cpu", "cuda", "mps")
CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile", "fma")


def _mps() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def pick(name: str | None = "auto") -> torch.device:
    """The device to compute on: `auto` is CUDA, then MPS, then CPU.

    >>> pick("cpu")
    device(type='cpu')
    """
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps():
            return torch.device("mps")
        return torch.device("cpu")
    kind = name.split(":")[0]
    if kind not in DEVICES:
        raise SidrecError(f"unknown device {name!r} (choose from {', '.join(DEVICES)}, or cuda:N)")
    if kind == "cuda" and not torch.cuda.is_available():
        raise SidrecError(f"--device {name}: no CUDA GPU is visible to torch on this machine")
    if kind == "mps" and not _mps():
        raise SidrecError(f"--device {name}: MPS is not available on this machine")
    if kind == "cuda" and ":" in name and int(name.split(":")[1]) >= torch.cuda.device_count():
        raise SidrecError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s)")
    return torch.device(name)


@cache
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@cache
def cpu_flags() -> tuple[str, ...]:
    """The vector extensions (of CPU_FLAGS) this CPU has, from /proc/cpuinfo (empty elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return tuple(flag for flag in CPU_FLAGS if flag in have)
    except OSError:
        pass
    return ()


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def peak_memory() -> dict:
    """This process's peak resident memory so far (GB), and its peak CUDA allocation when it used a GPU: the
    figure every benchmark states beside its result. On Linux the high-water mark of the process's own memory
    (VmHWM: a process started from a larger one does not inherit that one's peak, unlike ru_maxrss)."""
    out = {"peak_rss_gb": None}
    try:
        with open("/proc/self/status") as f:
            kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        out["peak_rss_gb"] = round(kib * 1024 / 1e9, 2)
    except (OSError, StopIteration, ValueError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, KiB elsewhere
        out["peak_rss_gb"] = round(peak / 1e9 if sys.platform == "darwin" else peak * 1024 / 1e9, 2)
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["peak_gpu_gb"] = round(torch.cuda.max_memory_allocated() / 1e9, 2)
    return out


def describe(device: torch.device | str | None = None) -> str:
    """One line naming the hardware a figure was measured on."""
    device = pick(device) if not isinstance(device, torch.device) else device
    cpu = f"{cpu_model()}, {cpu_count()} cores ({' '.join(cpu_flags()) or 'no flags read'})"
    if device.type == "cuda":
        n = torch.cuda.device_count()
        return f"{torch.cuda.get_device_name(device)} x{n}; host {cpu}"
    if device.type == "mps":
        return f"Apple GPU (MPS); host {cpu}"
    return f"CPU only: {cpu}"


def bf16_native(device: torch.device) -> bool:
    """True where bfloat16 matrix products run natively (not emulated)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool(torch.cpu._is_avx512_bf16_supported()) or "amx_bf16" in cpu_flags()
    return False


def autocast_dtype(device: torch.device, enabled: bool = True) -> torch.dtype | None:
    """The training autocast dtype for a device (None: float32)."""
    return torch.bfloat16 if enabled and bf16_native(device) else None


def enable_fast_matmul(device: torch.device) -> None:
    """TF32 matrix products on CUDA (float32 accuracy is not needed for training or search ranking)."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def search_batch_size(device: torch.device, default: int, num_beams: int = 20, prompt_tokens: int = 128) -> int:
    """Users per forward pass of the search: the default on CPU; on a GPU as many as a tenth of the free
    memory holds (a generous bound of the beams' hidden states and logits over a 50k vocabulary)."""
    if device.type != "cuda":
        return default
    free, _ = torch.cuda.mem_get_info(device)
    per_user = num_beams * 50_000 * 4 * 2 + prompt_tokens * 30 * 2 * 576 * 4  # logits + prompt cache, bytes
    return int(max(default, min(1024, free // 10 // per_user)))
