"""Mileage and expenses: trips, reimbursement rates, expenses with receipts, reports for approval, exports."""

from core.expenses.common import ExpenseError, LOCKED_STATES
from core.expenses.items import (CATEGORIES, add_expense, attach_receipt, delete_expense, list_expenses,
                                 update_expense)
from core.expenses.rates import (SCHEMES, STANDARD_RATES, pay_trips, rate_list, rate_on, rates_for, set_rate,
                                 set_rep_scheme)
from core.expenses.reports import (approve, audit_trail, build_period, find_report, list_reports, mark_exported,
                                   reject, report_totals, submit)
from core.expenses.trips import (DayAlreadyLogged, add_trip, add_trips_for_days, add_trips_from_route, delete_trip,
                                 draft_trips_from_route, list_trips,
                                 update_trip)

__all__ = [
    "ExpenseError", "LOCKED_STATES", "CATEGORIES", "add_expense", "attach_receipt", "delete_expense", "list_expenses",
    "update_expense", "SCHEMES", "STANDARD_RATES", "pay_trips", "rate_list", "rate_on", "rates_for", "set_rate", "set_rep_scheme",
    "approve", "audit_trail", "build_period", "find_report", "list_reports", "mark_exported", "reject",
    "report_totals", "submit", "add_trip", "add_trips_for_days", "add_trips_from_route", "delete_trip",
    "draft_trips_from_route", "DayAlreadyLogged",
    "list_trips", "update_trip",
]
