"""Call rotations for a rep, one import for the app: the parts live in model, problem, solve, missed and saved.

model: needs, cycle days, coverage and solved-rotation values; problem: the cycle calendar, visit patterns,
the coverage check and the periodic problem; solve: day assignment and daily routing; missed: roll-forward;
saved: saving a draft and reading it back; booking: applying a plan as visits and keeping it current.
"""

from core.rotation import calendar
from core.rotation.booking import (ApplyResult, TierCoverage, add_time_off, apply_rotation, coverage_text, replan,
                                   tier_coverage)

from core.rotation.missed import PlannedVisit, roll_forward, roll_forward_missed
from core.rotation.model import (BALANCE, KMH, LUNCH_MINUTES, PERIOD_WEEKS, TIER_WEIGHT, AccountNeed, Coverage,
                                 CycleDay, Rotation, RotationDay, RotationStop, day_minutes, minutes_of)
from core.rotation.problem import (RotationInput, coverage_check, cycle_calendar, drive_matrix, load_needs, prepare,
                                   visit_patterns, visits_in_cycle)
from core.rotation.saved import SavedPlan, get_plan, list_plans, move_slot, plan_slots, save_rotation
from core.rotation.solve import plan_rotation, solve_rotation, solve_rotation_in_child

__all__ = [
    "ApplyResult", "TierCoverage", "add_time_off", "apply_rotation", "coverage_text", "replan", "tier_coverage",
    "BALANCE", "KMH", "LUNCH_MINUTES", "PERIOD_WEEKS", "TIER_WEIGHT", "AccountNeed", "Coverage", "CycleDay",
    "PlannedVisit", "Rotation", "RotationDay", "RotationInput", "RotationStop", "SavedPlan",
    "calendar", "coverage_check", "cycle_calendar", "day_minutes", "drive_matrix",
    "get_plan", "list_plans", "load_needs", "minutes_of", "move_slot", "plan_rotation", "plan_slots", "prepare",
    "roll_forward", "roll_forward_missed", "save_rotation", "solve_rotation", "solve_rotation_in_child",
    "visit_patterns", "visits_in_cycle",
]
