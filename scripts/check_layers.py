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

Usage: check_layers.py [FILE ...]   (no files: every such module under kaunti/)
Exit code 0 when clean, 1 when a write was found (each printed as path:line: message).
Standard library only.
"""

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATTERNS = ("kaunti/*/views.py", "kaunti/*/views/**/*.py", "kaunti/*/api*.py")
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


def checked_modules() -> list[Path]:
    found = {path for pattern in PATTERNS for path in ROOT.glob(pattern)}
    return sorted(path for path in found if "tests" not in path.parts)


def main(arguments: list[str]) -> int:
    paths = [Path(argument) for argument in arguments] or checked_modules()
    found = [line for path in paths for line in violations(path)]
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} ORM write(s) outside services (see scripts/check_layers.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
