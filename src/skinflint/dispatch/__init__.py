"""Dispatch policies: clock-free objects, one per module, shared by the simulator and the runtime.

    policy = make_policy("cyclic", workers, early_close=EarlyClose())
    launches = policy.arrive(index, now, deadline)     # -> [(worker, [indices]), ...]

Registry names: `cyclic` (MODEL.md's batch-aware dispatch; the plan's `batch-aware`),
`adaptive` (greedy variant for real traffic), `round-robin` (per request, worker-local batches),
`central-queue` (InferLine's: an idle worker takes up to its batch of the queue at once).
"""

from __future__ import annotations

from typing import Callable, Sequence

from skinflint.dispatch.adaptive import AdaptivePolicy
from skinflint.dispatch.central_queue import CentralQueuePolicy
from skinflint.dispatch.base import NOTHING, DispatchPolicy, EarlyClose, InOrder, Launch, OpenBatch, Worker
from skinflint.dispatch.cyclic import CyclicPolicy
from skinflint.dispatch.round_robin import RoundRobinPolicy
from skinflint.registry import Registry

PolicyFactory = Callable[..., DispatchPolicy]
"""factory(workers, early_close=None, group_rates=None) -> DispatchPolicy"""

_REGISTRY: Registry[PolicyFactory] = Registry("dispatch policy", "--dispatch")

# The plan's dispatch kinds (model.DISPATCH_KINDS) and the policy each runs by default.
DEFAULT_FOR_KIND = {"batch-aware": "cyclic", "round-robin": "round-robin", "central-queue": "central-queue"}


def register_policy(name: str, factory: PolicyFactory) -> PolicyFactory:
    """Add a policy factory under `name`; a duplicate name is an error."""
    return _REGISTRY.register(name, factory)


def policy_names() -> list[str]:
    """The registered policy names."""
    return _REGISTRY.names()


def get_policy_factory(name: str) -> PolicyFactory:
    """The factory registered as `name` (or as the plan's kind `name`); the error lists the known ones."""
    return _REGISTRY.get(DEFAULT_FOR_KIND.get(name, name))


def make_policy(name: str, workers: Sequence[Worker], *, early_close: EarlyClose | None = None,
                group_rates: Sequence[float] | None = None) -> DispatchPolicy:
    """A fresh policy `name` for one module's workers (`group_rates`: round-robin shares per group)."""
    return get_policy_factory(name)(workers, early_close=early_close, group_rates=group_rates)


register_policy("cyclic", lambda workers, early_close=None, group_rates=None: CyclicPolicy(workers, early_close))
register_policy("adaptive", lambda workers, early_close=None, group_rates=None: AdaptivePolicy(workers, early_close))
register_policy("round-robin", RoundRobinPolicy)
register_policy("central-queue",
                lambda workers, early_close=None, group_rates=None: CentralQueuePolicy(workers, early_close))

__all__ = ["DEFAULT_FOR_KIND", "NOTHING", "AdaptivePolicy", "CentralQueuePolicy", "CyclicPolicy", "DispatchPolicy", "EarlyClose", "InOrder",
           "Launch", "OpenBatch", "RoundRobinPolicy", "Worker", "get_policy_factory", "make_policy", "policy_names",
           "register_policy"]
