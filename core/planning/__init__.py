"""Visit planning for a rep: due accounts -> routing problem -> plan; accept into routes and visits; check in/out."""

from core.planning.accept import accept
from core.planning.visits import OUTCOMES, check_in, check_out, mark_missed, visits_on
from core.planning.week import (PlanOptions, WeekPlan, build_problem, check_order, due_accounts, load_accepted, plan_week,
                                rep_accounts, reoptimise, with_order, working_days)

__all__ = ["OUTCOMES", "PlanOptions", "WeekPlan", "accept", "build_problem", "check_in", "check_order",
           "check_out", "due_accounts", "mark_missed", "load_accepted", "plan_week", "rep_accounts", "reoptimise", "visits_on", "with_order", "working_days"]
