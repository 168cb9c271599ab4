"""Undoable map actions: move an account by dragging, give the accounts in a drawn area to a rep or territory."""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from PySide6.QtGui import QUndoCommand

from core import accounts as svc
from core.changes import Changes
from core.words import counted
from desktop.accounts.actions import edit_accounts
from desktop.context import AppContext


def move_account(ctx: AppContext, account_id: int, lat: float, lon: float) -> None:
    """Put an account where the user dropped it; its location is now 'manual' (undoable)."""
    edit_accounts(ctx, {account_id: {"lat": round(lat, 6), "lon": round(lon, 6), "geocode_precision": "manual"}},
                  "Move account on the map")


class AssignOwnerCommand(QUndoCommand):
    """Give accounts to a rep through core.accounts.assign_owner (ownership history kept); undo gives them back."""

    def __init__(self, ctx: AppContext, account_ids: Sequence[int], rep_id: int | None, text: str) -> None:
        super().__init__(text)
        self.ctx = ctx
        self.ids = list(account_ids)
        self.rep_id = rep_id
        self.old_owner: dict[int, int | None] = {}

    def redo(self) -> None:
        changes, old = svc.assign_owner(self.ctx.store, self.ids, self.rep_id)
        if not self.old_owner:
            self.old_owner = {aid: values.get("owner_id") for aid, values in old.items()}
        self.ctx.apply(changes)

    def undo(self) -> None:
        by_owner: dict[int | None, list[int]] = defaultdict(list)
        for aid, owner in self.old_owner.items():
            by_owner[owner].append(aid)
        changes = Changes()
        with self.ctx.store.atomic():
            for owner, ids in by_owner.items():
                changes = changes.merge(svc.assign_owner(self.ctx.store, ids, owner)[0])
        self.ctx.apply(changes)


def assign_to_rep(ctx: AppContext, account_ids: Sequence[int], rep_id: int | None, rep_name: str) -> None:
    if account_ids:
        n = len(account_ids)
        ctx.undo_stack.push(AssignOwnerCommand(ctx, account_ids, rep_id,
                                               f"Give {counted(n, 'account')} to {rep_name}"))


def assign_to_territory(ctx: AppContext, account_ids: Sequence[int], territory_id: int | None, name: str) -> None:
    if account_ids:
        n = len(account_ids)
        edit_accounts(ctx, {aid: {"territory_id": territory_id} for aid in account_ids},
                      f"Put {counted(n, 'account')} in {name}")
