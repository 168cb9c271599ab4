"""Visit routing: build an immutable RoutingProblem, solve(problem, stop=..., seed=...), read a RoutingResult.

Shaped like PyVRP's API (Model -> ProblemData -> solve -> Result): stopping criteria are plain callables
that compose with `|`, and Cancel is one more criterion. solve() always returns a plan; stops that
cannot fit are listed in result.unserved with a plain reason.
"""

from core.routing.matrix import (CachedMatrix, GreatCircleMatrix, Matrix, MatrixProvider, OsrmMatrix, PlaneMatrix,
                                 RoutingServiceError, provider_for)
from core.routing.problem import RoutingProblem, Shift, Stop
from core.routing.result import Route, RoutingResult, Unserved, Visit, clock
from core.routing.solver import evaluate, solve
from core.routing.stop import CancelRequested, FirstOf, MaxIterations, MaxRuntime, NoImprovement, default_stop

__all__ = [
    "CachedMatrix", "CancelRequested", "FirstOf", "GreatCircleMatrix", "Matrix", "MatrixProvider", "MaxIterations", "MaxRuntime",
    "NoImprovement", "OsrmMatrix", "PlaneMatrix", "Route", "RoutingProblem", "RoutingResult", "RoutingServiceError",
    "Shift", "Stop", "Unserved", "Visit", "clock", "default_stop", "evaluate", "provider_for", "solve",
]
