"""Admission control in the runtime: the one rule of skinflint.admission, which the simulator
applies too, fed with the dispatchers' backlogs (DispatchPolicy.backlog) and the time a request
already waited at the edge. Kept as a module so the runtime's imports read as before."""

from skinflint.admission import RATIO_SAMPLES, Admission, Decision, Stage, default_max_in_flight

__all__ = ["RATIO_SAMPLES", "Admission", "Decision", "Stage", "default_max_in_flight"]
