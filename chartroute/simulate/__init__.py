"""A practice simulation: manual chasing against routing, on the real pipeline, day by day."""

from chartroute.simulate.assumptions import SimAssumptions
from chartroute.simulate.run import InvariantViolation, RunResult, SimSettings, simulate

__all__ = ["InvariantViolation", "RunResult", "SimAssumptions", "SimSettings", "simulate"]
