"""skinflint: serve DNN pipelines under a latency objective for the least money."""

from skinflint.api import plan, plan_spec
from skinflint.errors import InfeasibleError, PlanInvalidError, SkinflintError, SpecError
from skinflint.plan import Plan, plan_from_dict
from skinflint.spec.loader import load_spec
from skinflint.verify import check, verify

__version__ = "0.1.0"
__all__ = ["InfeasibleError", "Plan", "PlanInvalidError", "SkinflintError", "SpecError", "check", "load_spec",
           "plan", "plan_from_dict", "plan_spec", "verify"]
