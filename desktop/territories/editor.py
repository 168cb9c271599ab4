"""The territory editor: name, level, parent, owner, goal, colour, and a rule form per kind with a live preview."""

from __future__ import annotations

import json
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QPlainTextEdit, QPushButton, QSpinBox, QStackedWidget, QVBoxLayout, QWidget,
)

from core.territories.engagement import AccountSnapshot, Territory, matching_ids
from core.territories.rules import KINDS, RuleError, parse_rule, validate_rule

KIND_TITLES = {"geographic": "Geographic (states, counties, ZIP codes, ZIP3, drawn area)", "industry": "Industry",
               "customer_size": "Customer size", "customer_type": "Customer type", "product": "Product line",
               "channel": "Channel", "named": "Named accounts", "dynamic": "Combined criteria"}
# kind -> [(rule key, label, kind of field)]
FIELDS: dict[str, list[tuple[str, str, str]]] = {
    "geographic": [("state", "State", "text"), ("states", "States", "list"), ("counties", "Counties", "list"),
                   ("zips", "ZIP codes", "list"), ("zip3", "ZIP3 prefixes", "list"),
                   ("polygon", "Drawn area [[lat, lon], …]", "json")],
    "industry": [("industries", "Industries", "list")],
    "customer_size": [("employees_min", "Employees from", "int"), ("employees_max", "Employees up to", "int"),
                      ("segments", "Segments", "list"), ("in_segments", "Saved segments (Leads → Books)", "list")],
    "customer_type": [("customer_types", "Customer types", "list")],
    "product": [("products", "Products", "list")],
    "channel": [("channels", "Channels", "list")],
    "named": [("account_ids", "Account numbers", "ints"), ("external_ids", "CRM ids", "list")],
    "dynamic": [],
}
PREVIEW_NAMES = 5
MEMBER_ROWS = 6  # "Also worked by" shows this many whole rows, then scrolls row by row
# PySide6 drops a reference to None each time a QVariant None is read back (a refcount bug that
# aborts the interpreter at exit), so combo items never hold None: NOBODY stands for it.
NOBODY = -1


def combo_value(combo: QComboBox) -> Any:
    """The current item's data, None for NOBODY or an empty combo."""
    if combo.currentIndex() < 0:
        return None
    value = combo.currentData()
    return None if value == NOBODY else value


def select_value(combo: QComboBox, value: Any) -> None:
    """Select the item holding value (None selects the NOBODY item)."""
    index = combo.findData(NOBODY if value is None else value)
    combo.setCurrentIndex(max(0, index) if combo.count() else -1)


class RuleForm(QWidget):
    """One kind's fields; emits edited when any changes."""

    edited = Signal()

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.widgets: dict[str, tuple[str, QWidget]] = {}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for key, label, field_kind in FIELDS[kind]:
            if field_kind == "int":
                w = QSpinBox()
                w.setRange(-1, 10_000_000)
                w.setSpecialValueText("any")
                w.setValue(-1)
                w.valueChanged.connect(self.edited)
            else:
                w = QLineEdit()
                w.setObjectName(f"rule-{key}")
                w.setPlaceholderText("comma-separated" if field_kind in ("list", "ints") else "")
                w.textEdited.connect(self.edited)
            self.widgets[key] = (field_kind, w)
            form.addRow(label, w)
        if not FIELDS[kind]:
            form.addRow(QLabel("Write the rule JSON below: any criteria combined."))

    def fill(self, rule: dict[str, Any]) -> None:
        for key, (field_kind, w) in self.widgets.items():
            value = rule.get(key)
            if field_kind == "int":
                w.setValue(int(value) if isinstance(value, int) else -1)
            elif field_kind in ("list", "ints"):
                w.setText(", ".join(str(v) for v in value) if isinstance(value, list) else "")
            elif field_kind == "json":
                w.setText(json.dumps(value) if value is not None else "")
            else:
                w.setText(str(value) if value is not None else "")

    def rule(self) -> dict[str, Any]:
        """The rule these fields say (bad entries are kept as typed so validation can name them)."""
        out: dict[str, Any] = {}
        for key, (field_kind, w) in self.widgets.items():
            if field_kind == "int":
                if w.value() >= 0:
                    out[key] = w.value()
                continue
            text = w.text().strip()
            if not text:
                continue
            if field_kind == "list":
                out[key] = [p.strip() for p in text.split(",") if p.strip()]
            elif field_kind == "ints":
                out[key] = [int(p) if p.strip().isdigit() else p.strip() for p in text.split(",") if p.strip()]
            elif field_kind == "json":
                try:
                    out[key] = json.loads(text)
                except json.JSONDecodeError:
                    out[key] = text
            else:
                out[key] = text
        return out


class TerritoryEditor(QWidget):
    """Edits one territory; `save_requested(values)` carries the fields for the core service."""

    save_requested = Signal(dict)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("territory-editor")
        self.snapshot: AccountSnapshot | None = None
        self.territory: Territory | None = None
        self.name = QLineEdit()
        self.kind = QComboBox()
        for k in KINDS:
            self.kind.addItem(KIND_TITLES[k], k)
        self.level = QComboBox()
        for level in ("region", "district", "territory"):
            self.level.addItem(level.capitalize(), level)
        self.parent = QComboBox()
        self.owner = QComboBox()
        self.precedence = QSpinBox()
        self.precedence.setRange(-1000, 1000)
        self.precedence.setToolTip("Where rules overlap, the higher precedence wins (e.g. named 100 > geography 10)")
        self.goal = QDoubleSpinBox()
        self.goal.setRange(0, 1e12)
        self.goal.setDecimals(0)
        self.goal.setPrefix("$ ")
        self.goal.setSpecialValueText("no goal")
        self.color = QLineEdit()
        self.color.setPlaceholderText("#RRGGBB")
        self.overlay = QCheckBox("Overlay (its reps work beside the owner; it does not take accounts)")
        self.members = QListWidget()
        self.members.setObjectName("territory-members")
        # Sized to its rows in set_choices (a fixed 64 px cut names in half); scrolls by whole rows.
        self.members.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        self.members.setUniformItemSizes(True)
        self.members.setToolTip("Reps who also work this territory (overlay specialists)")

        top = QFormLayout()
        top.addRow("Name", self.name)
        top.addRow("Kind", self.kind)
        top.addRow("Level", self.level)
        top.addRow("Part of", self.parent)
        top.addRow("Owner", self.owner)
        top.addRow("Also worked by", self.members)
        top.addRow("Precedence", self.precedence)
        top.addRow("Goal", self.goal)
        top.addRow("Colour", self.color)

        self.forms = QStackedWidget()
        self.form_by_kind: dict[str, RuleForm] = {}
        for k in KINDS:
            form = RuleForm(k)
            form.edited.connect(self._fields_edited)
            self.forms.addWidget(form)
            self.form_by_kind[k] = form
        self.rule_text = QPlainTextEdit()
        self.rule_text.setObjectName("rule-json")
        self.rule_text.setMaximumHeight(60)  # three lines; the fields above are the main way in
        self.rule_text.setToolTip("The rule as stored (JSON); edit the fields above or this text")
        self.rule_text.textChanged.connect(self._schedule_preview)
        self.preview = QLabel("")
        self.preview.setObjectName("rule-preview")
        self.preview.setWordWrap(True)
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems = QLabel("")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #b00020;")
        rule_box = QGroupBox("Rule")
        rule_layout = QVBoxLayout(rule_box)
        rule_layout.addWidget(self.forms)
        rule_layout.addWidget(self.overlay)
        rule_layout.addWidget(QLabel("Rule JSON"))
        rule_layout.addWidget(self.rule_text)
        rule_layout.addWidget(self.preview)
        rule_layout.addWidget(self.problems)

        self.save_button = QPushButton("Save territory")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._save)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(rule_box, 1)
        layout.addLayout(buttons)

        self._preview_timer = QTimer(self, singleShot=True, interval=120, timeout=self.update_preview)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.overlay.toggled.connect(self._fields_edited)
        self._filling = False

    # --- data ---------------------------------------------------------------------------
    def set_choices(self, territories: list[Territory], people: list[dict[str, Any]]) -> None:
        current_parent, current_owner = combo_value(self.parent), combo_value(self.owner)
        self.parent.clear()
        self.parent.addItem("—", NOBODY)
        for t in territories:
            if t.level != "territory":
                self.parent.addItem(f"{t.name} ({t.level})", t.id)
        self.owner.clear()
        self.owner.addItem("nobody", NOBODY)
        for p in people:
            self.owner.addItem(f"{p['name']}" + (" (manager)" if p["role"] == "manager" else ""), p["id"])
        self._select(self.parent, current_parent)
        self._select(self.owner, current_owner)
        self.members.clear()
        for p in people:
            if p["role"] == "rep":
                item = QListWidgetItem(p["name"], self.members)
                item.setData(Qt.ItemDataRole.UserRole, p["id"])
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
        self._fit_members()

    def _fit_members(self) -> None:
        """Show every rep up to MEMBER_ROWS whole rows; beyond that the list scrolls row by row."""
        rows = max(1, min(self.members.count(), MEMBER_ROWS))
        row_h = self.members.sizeHintForRow(0) if self.members.count() else self.members.fontMetrics().height() + 4
        self.members.setFixedHeight(rows * row_h + 2 * self.members.frameWidth())

    def set_member_ids(self, rep_ids: set[int]) -> None:
        for row in range(self.members.count()):
            item = self.members.item(row)
            checked = item.data(Qt.ItemDataRole.UserRole) in rep_ids
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def member_ids(self) -> list[int]:
        """Reps ticked under "Also worked by" (saved as overlay members)."""
        return [self.members.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.members.count())
                if self.members.item(row).checkState() == Qt.CheckState.Checked]

    @staticmethod
    def _select(combo: QComboBox, value: Any) -> None:
        select_value(combo, value)

    def set_snapshot(self, snapshot: AccountSnapshot | None) -> None:
        self.snapshot = snapshot
        self.update_preview()

    def edit(self, territory: Territory | None) -> None:
        """Show a territory (None: a blank new one)."""
        self.territory = territory
        self._filling = True
        try:
            t = territory
            self.name.setText(t.name if t else "")
            self._select(self.kind, t.kind if t else "geographic")
            self._select(self.level, t.level if t else "territory")
            self._select(self.parent, t.parent_id if t else None)
            self._select(self.owner, t.owner_id if t else None)
            self.precedence.setValue(t.precedence if t else 10)
            self.goal.setValue((t.goal_cents or 0) / 100 if t else 0)
            self.color.setText(t.color or "" if t else "")
            rule = dict(t.rule) if t else {}
            self.overlay.setChecked(bool(rule.get("overlay")))
            self.forms.setCurrentWidget(self.form_by_kind[t.kind if t else "geographic"])
            self.form_by_kind[t.kind if t else "geographic"].fill(rule)
            self.rule_text.setPlainText(json.dumps(rule))
        finally:
            self._filling = False
        self.update_preview()

    def rule(self) -> dict[str, Any] | None:
        try:
            return parse_rule(self.rule_text.toPlainText().strip() or "{}")
        except RuleError:
            return None

    def values(self) -> dict[str, Any]:
        """The fields as a core.territories.service edit."""
        rule = self.rule()
        return {"name": self.name.text().strip(), "kind": combo_value(self.kind), "level": combo_value(self.level),
                "parent_id": combo_value(self.parent), "owner_id": combo_value(self.owner),
                "precedence": self.precedence.value(),
                "goal_cents": int(round(self.goal.value() * 100)) if self.goal.value() > 0 else None,
                "color": self.color.text().strip() or None,
                "rule": rule if rule is not None else self.rule_text.toPlainText()}

    # --- reactions ------------------------------------------------------------------------
    def _kind_changed(self) -> None:
        kind = combo_value(self.kind)
        self.forms.setCurrentWidget(self.form_by_kind[kind])
        if not self._filling:
            self._fields_edited()

    def _fields_edited(self) -> None:
        if self._filling:
            return
        rule = self.form_by_kind[combo_value(self.kind)].rule()
        if combo_value(self.kind) == "dynamic":
            current = self.rule() or {}
            rule = {k: v for k, v in current.items() if k != "overlay"}
        if self.overlay.isChecked():
            rule["overlay"] = True
        self.rule_text.setPlainText(json.dumps(rule))

    def _schedule_preview(self) -> None:
        self._preview_timer.start()

    def update_preview(self) -> None:
        """Count and a few names of the accounts the rule matches (in memory, a few ms for 10,000)."""
        text = self.rule_text.toPlainText().strip()
        try:
            rule = parse_rule(text or "{}")
        except RuleError as exc:
            self.problems.setText(str(exc))
            self.preview.setText("")
            return
        problems = validate_rule(rule)
        self.problems.setText("; ".join(problems))
        if problems:
            self.preview.setText("Matches nothing until the rule is fixed.")
            return
        if self.snapshot is None:
            self.preview.setText("Loading accounts…")
            return
        ids = matching_ids(rule, self.snapshot)
        names = [self.snapshot.rows[i]["name"] for i in ids[:PREVIEW_NAMES]]
        more = f" and {len(ids) - len(names):,} more" if len(ids) > len(names) else ""
        self.preview.setText(f"<b>Matches {len(ids):,} accounts</b>" + (": " + ", ".join(names) + more if names else ""))
        self.preview_count = len(ids)

    def _save(self) -> None:
        self.save_requested.emit(self.values())
