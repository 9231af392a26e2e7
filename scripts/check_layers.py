"""Views, API and tasks call services and selectors; they never write through the ORM.

A write in a view skips what the service around it does (the audit entry, the lock order,
the transaction, the checks a second caller would also need), so CI fails when a module in
`kaunti/*/views*`, `kaunti/*/api*` or `kaunti/*/tasks.py` contains one of:

- `Model.objects.create(...)`, `.bulk_create`, `.bulk_update`, `.get_or_create`,
  `.update_or_create`, `.update`, `.delete` on a manager or a queryset built from one;
- `.save(...)` on anything (a model, a model form);
- `.delete()` with no arguments (a model or a queryset; `cache.delete(key)` takes one);
- any of the first list's writes on a name the module bound to a manager or a queryset
  built from one (`pending = Bill.objects.filter(...)` then `pending.update(...)`).

Move the write into the app's services and call that. Reads (`.objects.filter(...)`,
`.get`, `.exists`) are allowed, though selectors are the better home for them.

Second rule, over every module of every app (tests, migrations and the demo loader
aside): an app writes only its own tables. A module of app A fails when it
- names another app's table in SQL that writes (`INSERT INTO payments_bill`,
  `UPDATE`, `DELETE FROM`, `COPY`), or
- writes through the manager of a model it imported from another app's `models`
  (`Bill.objects.create(...)`, `Bill.objects.filter(...).update(...)`), or builds one
  of those models' rows (`Bill(number=...)`, as bulk inserts do). Land asks payments to raise
  its bills (`payments.services.bills.raise_bills`); it does not write them.

Usage: check_layers.py [FILE ...]   (no files: every such module under kaunti/)
Exit code 0 when clean, 1 when a write was found (each printed as path:line: message).
Standard library only.
"""

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATTERNS: tuple[str, ...] = ("kaunti/*/views.py", "kaunti/*/views/**/*.py", "kaunti/*/api*.py")
PATTERNS += ("kaunti/*/api/**/*.py", "kaunti/*/tasks.py")
MANAGER_WRITES = frozenset(
    {"create", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}
    | {"update", "delete"}
)
# Calls that turn a manager into a queryset: a write after them still writes the table.
QUERYSET_STEPS = frozenset(
    {"all", "filter", "exclude", "select_related", "prefetch_related", "order_by"}
    | {"select_for_update", "annotate", "using", "only", "defer", "distinct", "none"}
)


def _through_manager(node: ast.expr) -> bool:
    """Whether `node` is `X.objects`, or a queryset chain built on it."""
    while True:
        if isinstance(node, ast.Attribute):
            if node.attr == "objects":
                return True
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr not in QUERYSET_STEPS:
                return False
            node = node.func.value
        else:
            return False


def _queryset_names(tree: ast.AST) -> set[str]:
    """The names the module binds to a manager or a queryset built on one."""
    return {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _through_manager(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _write(call: ast.Call, querysets: set[str]) -> str | None:
    """What kind of ORM write `call` is, or None when it is not one."""
    if not isinstance(call.func, ast.Attribute):
        return None
    method, receiver = call.func.attr, call.func.value
    if method in MANAGER_WRITES and _through_manager(receiver):
        return f".{method}() through a model manager"
    if method == "save":
        return ".save()"
    if method == "delete" and not call.args and not call.keywords:
        return ".delete()"
    if method in MANAGER_WRITES and isinstance(receiver, ast.Name) and receiver.id in querysets:
        return f"queryset .{method}()"
    return None


def violations(path: Path) -> Iterator[str]:
    """Each ORM write in the module at `path`, as "path:line: message"."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    querysets = _queryset_names(tree)
    calls = sorted(
        (node for node in ast.walk(tree) if isinstance(node, ast.Call)),
        key=lambda node: (node.lineno, node.col_offset),
    )
    for call in calls:
        if kind := _write(call, querysets):
            yield (
                f"{path}:{call.lineno}: {kind} in a view, API or task module; "
                "call a service that writes instead"
            )


APPS_ROOT = ROOT / "kaunti"
# The demo loader builds a year of history for every app at once, as a data import would.
OWN_TABLES_EXEMPT = frozenset({"demo", "tests", "migrations"})
SQL_WRITE = re.compile(
    r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY)\s+\"?([a-z]+)_[a-z_]+", re.IGNORECASE
)


def _app_of(path: Path) -> str | None:
    """The app a module belongs to (`.../kaunti/<app>/...`), or None outside the apps."""
    parts = path.resolve().parts
    starts = [index for index, part in enumerate(parts[:-2]) if part == "kaunti"]
    return parts[starts[-1] + 1] if starts else None


def _foreign_models(tree: ast.AST, app: str, apps: set[str]) -> set[str]:
    """Names this module imported from another app's models (`from kaunti.x.models ...`)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ImportFrom) and node.module):
            continue
        parts = node.module.split(".")
        owner = parts[1] if len(parts) >= 3 and parts[0] == "kaunti" else None
        if parts[2:3] == ["models"] and owner in apps and owner != app:
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _manager_of(node: ast.expr) -> str | None:
    """The model name `X` when `node` is `X.objects` or a queryset chain built on it."""
    while True:
        if isinstance(node, ast.Attribute):
            if node.attr == "objects":
                return node.value.id if isinstance(node.value, ast.Name) else None
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr not in QUERYSET_STEPS:
                return None
            node = node.func.value
        else:
            return None


def foreign_writes(path: Path, apps: set[str]) -> Iterator[str]:
    """Each write by the module at `path` to a table of another app."""
    app = _app_of(path)
    if app is None or OWN_TABLES_EXEMPT & set(path.parts):
        return
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    foreign = _foreign_models(tree, app, apps)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for match in SQL_WRITE.finditer(node.value):
                if match.group(1) in apps and match.group(1) != app:
                    yield f"{path}:{node.lineno}: SQL writes {match.group(1)}'s table"
        elif isinstance(node, ast.Call) and foreign:
            func = node.func
            # Rows are built with field keywords; `Role(value)` looks up a choice.
            if isinstance(func, ast.Name) and func.id in foreign and node.keywords:
                yield f"{path}:{node.lineno}: builds a row of {func.id}, another app's model"
            elif isinstance(func, ast.Attribute) and func.attr in MANAGER_WRITES:
                model = _manager_of(func.value)
                if model in foreign:
                    yield f"{path}:{node.lineno}: .{func.attr}() on {model}, another app's model"


def app_labels() -> set[str]:
    return {path.parent.name for path in APPS_ROOT.glob("*/apps.py")}


def app_modules() -> list[Path]:
    return sorted(
        path
        for path in APPS_ROOT.glob("*/**/*.py")
        if not OWN_TABLES_EXEMPT & set(path.relative_to(APPS_ROOT).parts)
    )


def checked_modules() -> list[Path]:
    found = {path for pattern in PATTERNS for path in ROOT.glob(pattern)}
    return sorted(path for path in found if "tests" not in path.parts)


def _is_view_api_or_task(path: Path) -> bool:
    """Whether the first rule applies to `path` (what PATTERNS select, wherever it lies)."""
    return (
        path.name in {"views.py", "tasks.py"}
        or path.name.startswith("api")
        or bool({"views", "api"} & set(path.parent.parts[-1:]))
    )


def main(arguments: list[str]) -> int:
    given = [Path(argument) for argument in arguments]
    paths = [path for path in given if _is_view_api_or_task(path)] if given else checked_modules()
    found = [line for path in paths for line in violations(path)]
    apps = app_labels()
    owned = given or app_modules()
    found += [line for path in owned for line in foreign_writes(path, apps)]
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} write(s) outside their layer or app (see scripts/check_layers.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
