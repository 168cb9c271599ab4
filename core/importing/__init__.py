"""Bringing accounts in from CRM exports (CSV/XLSX) and sending them out again, safely."""

from core.importing.importer import ImportAborted, ImportResult, default_rejects_path, import_accounts  # noqa: F401
from core.importing.mapping import ColumnMapping, MappingProblem, auto_mapping, detect_source  # noqa: F401
from core.importing.reading import FileProblem, Table, open_table  # noqa: F401
