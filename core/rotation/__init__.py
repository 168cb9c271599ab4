"""Call rotations: a periodic VRP (visit patterns over a 4–8 week cycle, each day routed) for reps and benchmarks."""

from core.rotation.calendar import account_weekdays, format_weekdays, parse_weekdays, us_federal_holidays
from core.rotation.periodic import PeriodicProblem, PeriodicSolution, check_solution, solve_periodic
from core.rotation.planner import (AccountNeed, Coverage, CycleDay, PlannedVisit, Rotation, RotationDay,
                                   RotationInput, RotationStop, coverage_check, cycle_calendar, plan_rotation,
                                   prepare, roll_forward, roll_forward_missed, save_rotation, solve_rotation,
                                   visit_patterns, visits_in_cycle)

__all__ = [
    "AccountNeed", "Coverage", "CycleDay", "PeriodicProblem", "PeriodicSolution", "PlannedVisit", "Rotation",
    "RotationDay", "RotationInput", "RotationStop", "account_weekdays", "check_solution", "coverage_check",
    "cycle_calendar", "format_weekdays", "parse_weekdays", "plan_rotation", "prepare", "roll_forward",
    "roll_forward_missed", "save_rotation", "solve_rotation", "us_federal_holidays", "visit_patterns",
    "visits_in_cycle",
]
