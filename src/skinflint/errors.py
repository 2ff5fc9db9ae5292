"""Errors users can act on: each names the file, the field and the fix (exit 2 or 3 at the CLI)."""

from __future__ import annotations


class SkinflintError(Exception):
    """Base class of every error skinflint reports to a user without a traceback."""

    exit_code = 1


class SpecError(SkinflintError):
    """Invalid input: a file, a field in it, what is wrong, and how to fix it (CLI exit 2)."""

    exit_code = 2

    def __init__(self, source: str, field: str, problem: str, fix: str = "") -> None:
        self.source, self.field, self.problem, self.fix = str(source), field, problem, fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = f"{self.source}: {self.field}" if self.field else self.source
        text = f"{where}: {self.problem}"
        if self.fix:
            text += f" (fix: {self.fix})"
        return " ".join(text.split())


class InfeasibleError(SkinflintError):
    """No plan meets the SLO; carries the smallest SLO that can be met (CLI exit 3)."""

    exit_code = 3

    def __init__(self, app: str, slo_ms: float, min_slo_ms: float) -> None:
        self.app, self.slo_ms, self.min_slo_ms = app, slo_ms, min_slo_ms
        super().__init__(
            f"{app}: no plan meets slo_ms={slo_ms:g}; the smallest SLO that can be met is "
            f"{min_slo_ms:.3f} ms (raise slo_ms, add faster hardware, or profile smaller batches)"
        )


class PlanInvalidError(SkinflintError):
    """A plan broke MODEL.md: raised by `verify.check` with every violation found."""

    exit_code = 1

    def __init__(self, violations: list[str]) -> None:
        self.violations = violations
        super().__init__("plan violates the model: " + "; ".join(violations))


class AddressError(SkinflintError):
    """`serve` cannot listen where it was told: the port is in use or not permitted (CLI exit 4)."""

    exit_code = 4
