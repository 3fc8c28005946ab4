"""The processes a command runs as: one, or several under a launcher.

GPUs: `accelerate launch --multi_gpu --num_processes N -m sidrec ...`; CPU
processes (gloo): `torchrun --nproc_per_node N -m sidrec ...` (accelerate 1.x's
`--cpu --num_processes N` needs mpirun and a hostfile; without them it starts
one process). `processes()` reads the launcher's environment through
accelerate: each process learns its rank, the number of processes and its
device (its own GPU, or the CPU, whose cores the processes share).
Outside a launcher it is one process on the device `pick` chooses. Batch
inference splits users by `split_shard`, composing a scheduler's `--shard i/n`
with the launcher's ranks, so every user is built exactly once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from sidrec.device import pick


@dataclass(frozen=True)
class Processes:
    rank: int
    world: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        """Wait until every process gets here (nothing to wait for with one process)."""
        if self.world > 1:
            from accelerate import PartialState

            PartialState().wait_for_everyone()


def processes(device: str | None = "auto") -> Processes:
    """This process's place among those the launcher started (one process if none)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Processes(0, 1, pick(device))
    from accelerate import PartialState

    state = PartialState(cpu=pick(device).type == "cpu")  # gloo between CPU processes, NCCL between GPUs
    return Processes(state.process_index, state.num_processes, state.device)


def split_shard(shard: tuple[int, int], rank: int, world: int) -> tuple[int, int]:
    """Shard i of n, split again among `world` processes: this rank's part, as one shard of n * world.

    Every n-th user starting at i, then every world-th of those starting at rank, is every
    (n * world)-th user starting at i + n * rank.

    >>> split_shard((1, 3), 1, 2)
    (4, 6)
    """
    i, n = shard
    return i + n * rank, n * world


def any_process(flag: bool, device: torch.device | str = "cpu") -> bool:
    """True on every process when `flag` is true on any of them (alone: `flag`).

    A decision each process takes from its own clock (a time budget) must be one decision: a process
    that stopped alone would leave the others waiting for its gradients at the next step.

    >>> any_process(True), any_process(False)
    (True, False)
    """
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return flag
    t = torch.tensor([int(flag)], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())
