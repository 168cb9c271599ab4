"""`fieldatlas account`: show one account, or set one of its fields (validated, logged, the GUI's own edit)."""

from __future__ import annotations

import argparse
from typing import Any

from core import accounts as svc
from core import opening_hours
from core.reps import find_rep
from desktop.cli.common import CliError, add_db_argument, add_json_argument, emit, open_store

# The order `account show` prints fields in, with the labels the detail panel uses.
SHOWN = (
    ("name", "Name"), ("external_id", "CRM id"), ("street", "Street"), ("city", "City"), ("state", "State"),
    ("postal_code", "ZIP"), ("country", "Country"), ("phone", "Phone"), ("website", "Website"),
    ("industry", "Industry"), ("employees", "Employees"), ("annual_revenue_cents", "Annual revenue"),
    ("potential_cents", "Potential"), ("tier", "Tier"), ("status", "Status"), ("owner", "Owner"),
    ("territory_id", "Territory id"), ("visit_frequency", "Visits"), ("visit_minutes", "Visit minutes"),
    ("opening_hours", "Open"), ("allowed_weekdays", "Visit on"), ("locked", "Locked"), ("lat", "Latitude"),
    ("lon", "Longitude"), ("geocode_precision", "Located by"), ("last_visit_at", "Last visit"), ("notes", "Notes"),
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("account", help="show an account or set one of its fields",
                       description="`show` prints one account; `set` changes one field the way the account "
                                   "detail panel does (validated, undoable history in the change log).")
    verbs = p.add_subparsers(dest="verb", required=True)
    show = verbs.add_parser("show", help="print one account")
    add_db_argument(show)
    show.add_argument("--id", type=int, required=True, help="the account id")
    add_json_argument(show)
    st = verbs.add_parser("set", help="set one field of an account",
                          description="Set one editable field. Values are read as people type them: "
                                      "--field opening_hours --value 'Mon-Fri 8am-5pm; Sat 9-12', "
                                      "--field visit_frequency --value 'every 2 weeks' (or '3 per cycle'), "
                                      "--field allowed_weekdays --value 'mon,wed', --field owner_id --value "
                                      "'Dana Reyes' (a rep id, email or name), an empty value clears a field. "
                                      "Fields: " + ", ".join(svc.EDITABLE) + ".")
    add_db_argument(st)
    st.add_argument("--id", type=int, required=True, help="the account id")
    st.add_argument("--field", required=True, help="the field to set, e.g. visit_minutes")
    st.add_argument("--value", required=True, help="the new value as text ('' clears it)")
    add_json_argument(st)
    p.set_defaults(func=run)


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """The account as `show --json` gives it: stored values, plus the hours in words."""
    data = {key: row.get(key) for key, _ in SHOWN}
    data["id"] = row["id"]
    data["owner_id"] = row.get("owner_id")
    data["opening_hours_text"] = opening_hours.describe(row.get("opening_hours")) or None
    data["visit_frequency_text"] = svc.frequency_label(row.get("visit_frequency")) or None
    data["deleted"] = bool(row.get("deleted_at"))
    return data


def _text(row: dict[str, Any]) -> str:
    from core.money import format_cents

    lines = [f"Account {row['id']}" + (" (deleted)" if row.get("deleted_at") else "")]
    for key, label in SHOWN:
        value = row.get(key)
        if key in ("annual_revenue_cents", "potential_cents") and value is not None:
            value = format_cents(value)
        elif key == "opening_hours":
            value = opening_hours.describe(value) or "not known"
        elif key == "allowed_weekdays":
            value = value or "any day it is open"
        elif key == "visit_frequency":
            value = svc.frequency_label(value)
        elif key == "locked":
            value = "yes" if value else "no"
        if value is None or value == "":
            continue
        lines.append(f"  {label + ':':15} {value}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    try:
        if args.verb == "set":
            text = args.value
            if args.field == "owner_id" and text.strip() and not text.strip().isdigit():
                try:
                    text = str(find_rep(store, text)["id"])
                except KeyError as exc:
                    raise CliError(f"--value: {exc.args[0]}") from exc
            try:
                changes, old = svc.set_field(store, args.id, args.field, text)
            except KeyError as exc:
                raise CliError(f"--id: {exc.args[0]}") from exc
            except svc.ValidationError as exc:
                # A refused value already names its account ("account 7: visit_minutes: ..."); an
                # unreadable one names only the field: name the account once either way.
                prefix, message = f"account {args.id}: ", str(exc)
                raise CliError(message if message.startswith(prefix) else prefix + message) from exc
        try:
            row = svc.get_account(store, args.id)
        except KeyError as exc:
            raise CliError(f"--id: {exc.args[0]}") from exc
        data = _shown(row)
        if args.verb == "set":
            before = old.get(args.id, {}).get(args.field, row.get(args.field))
            note = "changed" if changes else "unchanged (already that value)"
            emit(args, f"Account {args.id} {args.field}: {note}\n" + _text(row),
                 {"account": data, "field": args.field, "old": before, "new": row.get(args.field),
                  "changed": bool(changes)})
        else:
            emit(args, _text(row), data)
    finally:
        store.close()
    return 0
