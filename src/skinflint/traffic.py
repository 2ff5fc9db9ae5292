"""The traffic a plan is made for (MODEL.md, "Traffic and attainment"): how requests arrive, how
many items each brings to a module and when, how batch times vary, and the target attainment.

    traffic = Traffic.parse("mmpp:ratio=1.5,share=0.2", fanout="poisson", jitter="lognormal:0.1")

`Traffic()` is the default: Poisson arrivals, fan-out together, jitter from the profile, target
0.999. `Traffic.worst_case()` is MODEL.md's worst-case contract (uniform arrivals, exact batch
times, target 1), which the exact planner meets without simulation. This module holds the data
and its syntax only; sim.traffic turns it into arrival times, item counts and jitter draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from skinflint.errors import SpecError

FANOUTS = ("together", "poisson", "spread")
"""together: a request's items reach a module at once, count = the deterministic rounding of
rate_factor; poisson: at once, count ~ Poisson(rate_factor); spread: counts as `together`, the
items spread evenly at the module's rate (MODEL.md's even stream, no fan-out lag)."""

JITTERS = ("profile", "lognormal:CV", "none")
DEFAULT_TARGET = 0.999


def parse_named(text: str, where: str, option: str, form: str) -> tuple[str, dict[str, Any]]:
    """`NAME[:key=value,...]` -> (NAME, params), numbers as floats; a malformed item is a SpecError
    naming `where` and `option` and showing the expected `form`."""
    name, _, rest = text.strip().partition(":")
    params: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise SpecError(where, option, f"cannot read {item!r} in {text!r}", f"write {form}")
        try:
            params[key.strip()] = float(value)
        except ValueError:
            params[key.strip()] = value.strip()
    if not name:
        raise SpecError(where, option, f"no kind named in {text!r}", f"write {form}")
    return name, params


def jitter_cv(text: str, where: str = "traffic", option: str = "jitter") -> float | None:
    """The coefficient of variation of `lognormal:CV`, 0 for `none`, None for `profile`."""
    kind, _, arg = text.strip().partition(":")
    if kind == "profile" and not arg:
        return None
    if kind == "none" and not arg:
        return 0.0
    if kind == "lognormal":
        try:
            cv = float(arg)
        except ValueError:
            cv = math.nan
        if math.isfinite(cv) and 0 <= cv <= 10:
            return cv
    raise SpecError(where, option, f"cannot read jitter {text!r}",
                    "write profile (the profile's p95/p99 columns), lognormal:CV (e.g. lognormal:0.1) or none")


@dataclass(frozen=True)
class Traffic:
    """Arrivals (`KIND[:key=value,...]`, run at the app's rate unless it sets its own), fan-out
    (FANOUTS), batch-time jitter (`profile`, `lognormal:CV`, `none`) and the target attainment."""

    arrivals: str = "poisson"
    fanout: str = "together"
    jitter: str = "profile"
    target: float = DEFAULT_TARGET

    @classmethod
    def worst_case(cls) -> "Traffic":
        """MODEL.md's contract: uniform arrivals at the planned rate, exact batch times, every request."""
        return cls("uniform", "together", "none", 1.0)

    @classmethod
    def parse(cls, arrivals: str | None = None, *, fanout: str | None = None, jitter: str | None = None,
              target: float | None = None, base: "Traffic | None" = None, where: str = "command line") -> "Traffic":
        """Options over `base` (the app file's traffic, else the default). `uniform` alone means the
        worst-case contract: exact batch times and target 1, unless jitter or target are given."""
        base = base or cls()
        traffic = base
        if arrivals is not None:
            traffic = replace(traffic, arrivals=arrivals.strip())
            if arrivals.strip() == "uniform":
                traffic = replace(traffic, jitter="none" if jitter is None else traffic.jitter,
                                  target=1.0 if target is None else traffic.target)
        if fanout is not None:
            traffic = replace(traffic, fanout=fanout)
        if jitter is not None:
            traffic = replace(traffic, jitter=jitter)
        if target is not None:
            traffic = replace(traffic, target=target)
        return traffic.checked(where)

    def checked(self, where: str = "traffic") -> "Traffic":
        """Self, or a SpecError naming the field that is wrong and how to fix it."""
        parse_named(self.arrivals, where, "arrivals", "KIND[:key=value,...] (e.g. poisson, mmpp:ratio=1.5,share=0.2)")
        if self.fanout not in FANOUTS:
            raise SpecError(where, "fanout", f"unknown fan-out {self.fanout!r}", f"choose one of: {', '.join(FANOUTS)}")
        jitter_cv(self.jitter, where)
        if not (isinstance(self.target, (int, float)) and math.isfinite(self.target) and 0 < self.target <= 1):
            raise SpecError(where, "target", f"must be a fraction in (0, 1] (got {self.target!r})",
                            "pass e.g. 0.999 (99.9 % of requests within the SLO)")
        if self.target == 1 and not self.is_worst_case:
            raise SpecError(where, "target", "a target of 1 can only be proven for uniform arrivals, fixed fan-out "
                            "and exact batch times", "use --traffic uniform, or a target below 1 such as 0.999")
        return self

    @property
    def kind(self) -> str:
        """The arrival process's name."""
        return self.arrivals.partition(":")[0].strip()

    @property
    def is_worst_case(self) -> bool:
        """MODEL.md's deterministic world: uniform arrivals, no jitter, deterministic counts."""
        return self.kind == "uniform" and jitter_cv(self.jitter) == 0.0 and self.fanout != "poisson"

    def to_dict(self) -> dict[str, Any]:
        """The plan JSON's `traffic` (FORMATS.md); `target` is written beside it."""
        return {"arrivals": self.arrivals, "fanout": self.fanout, "jitter": self.jitter}

    @classmethod
    def from_dict(cls, d: dict[str, Any], target: float) -> "Traffic":
        """Rebuild from the plan JSON's `traffic` and `target`."""
        return cls(str(d.get("arrivals", "poisson")), str(d.get("fanout", "together")),
                   str(d.get("jitter", "profile")), float(target))

    def describe(self) -> str:
        """One line for tables: arrivals, fan-out, jitter, target."""
        return f"{self.arrivals}, fan-out {self.fanout}, jitter {self.jitter}, target {self.target:g}"
