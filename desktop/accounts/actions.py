"""Undoable account edits: every edit from any view goes through these commands onto ctx.undo_stack."""

from __future__ import annotations

from typing import Any, Mapping

from PySide6.QtGui import QUndoCommand

from core import accounts as svc
from core.words import counted
from desktop.context import AppContext


class EditAccountsCommand(QUndoCommand):
    """Apply {account_id: {field: value}}; undo writes the old values back (both logged for sync)."""

    def __init__(self, ctx: AppContext, edits: Mapping[int, Mapping[str, Any]], text: str) -> None:
        super().__init__(text)
        self.ctx = ctx
        self.edits = {aid: dict(v) for aid, v in edits.items()}
        self.old: dict[int, dict[str, Any]] = {}
        self.applied = False

    def redo(self) -> None:
        changes, old = svc.update_accounts(self.ctx.store, self.edits)
        if not self.applied:
            self.old = old
            self.applied = True
        self.ctx.apply(changes)

    def undo(self) -> None:
        changes, _ = svc.update_accounts(self.ctx.store, self.old)
        self.ctx.apply(changes)


class DeleteAccountsCommand(QUndoCommand):
    """Tombstone accounts; undo restores them."""

    def __init__(self, ctx: AppContext, account_ids: list[int]) -> None:
        super().__init__(f"Delete {counted(len(account_ids), 'account')}")
        self.ctx = ctx
        self.ids = list(account_ids)

    def redo(self) -> None:
        self.ctx.apply(svc.delete_accounts(self.ctx.store, self.ids))

    def undo(self) -> None:
        self.ctx.apply(svc.restore_accounts(self.ctx.store, self.ids))


def edit_accounts(ctx: AppContext, edits: Mapping[int, Mapping[str, Any]], text: str) -> None:
    """Validate first (raises core.accounts.ValidationError), then push the undoable edit.

    QUndoStack.push runs redo at once; checking before pushing keeps a refused edit off the stack.
    """
    problems = []
    for aid, values in edits.items():
        problems += svc.validate(values)
    if problems:
        raise svc.ValidationError(problems)
    ctx.undo_stack.push(EditAccountsCommand(ctx, edits, text))


class CreateAccountCommand(QUndoCommand):
    """Add an account; undo tombstones it, redo brings the same row back."""

    def __init__(self, ctx: AppContext, values: Mapping[str, Any]) -> None:
        super().__init__(f"Add {values.get('name', 'account')}")
        self.ctx = ctx
        self.values = dict(values)
        self.account_id: int | None = None

    def redo(self) -> None:
        if self.account_id is None:
            self.account_id, changes = svc.create_account(self.ctx.store, self.values)
        else:
            changes = svc.restore_account(self.ctx.store, self.account_id)
        self.ctx.apply(changes)

    def undo(self) -> None:
        if self.account_id is not None:
            self.ctx.apply(svc.delete_account(self.ctx.store, self.account_id))
