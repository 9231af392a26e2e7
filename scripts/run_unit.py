"""Run a systemd unit's service the way systemd would, without systemd (CI has none).

Usage: run_unit.py UNIT_FILE --path FROM=TO [--path FROM=TO ...] [--print]

Reads the unit's [Service] section: ExecStart, WorkingDirectory, Environment,
EnvironmentFile, RuntimeDirectory, StateDirectory and UMask, after replacing each install
path FROM with TO throughout the file (in the order given: put longer paths first). Then
creates the runtime and state directories, and replaces this process with ExecStart in
the working directory, with systemd's environment: a plain PATH and LANG, then the
unit's Environment= lines, then its EnvironmentFile (whose values win, as in systemd).
User=, the sandboxing options and Restart= are systemd's part and are not imitated:
scripts/check-install.sh checks what the service does, not how systemd confines it.
--print shows the command, directory and environment instead of running it.
"""

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
UNSUPPORTED = ("ExecStartPre", "ExecStartPost", "ExecCondition")


def service_settings(text: str) -> list[tuple[str, str]]:
    """The [Service] section's settings, in order, continuation lines joined."""
    joined = text.replace("\\\n", " ")
    section, settings = "", []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if section == "Service" and "=" in line:
            key, value = line.split("=", 1)
            settings.append((key.strip(), value.strip()))
    return settings


def assignments(value: str) -> dict[str, str]:
    """Environment=: space-separated KEY=VALUE words, each maybe quoted."""
    return dict(word.split("=", 1) for word in shlex.split(value) if "=" in word)


def environment_file(path: Path) -> dict[str, str]:
    """EnvironmentFile=: KEY=VALUE lines, comments, values maybe in quotes."""
    values = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("unit", type=Path)
    parser.add_argument("--path", action="append", default=[], metavar="FROM=TO")
    parser.add_argument("--print", action="store_true")
    options = parser.parse_args()

    text = options.unit.read_text(encoding="utf-8")
    for pair in options.path:
        old, new = pair.split("=", 1)
        text = text.replace(old, new)
    settings = service_settings(text)
    if bad := [key for key, _ in settings if key in UNSUPPORTED]:
        sys.exit(f"{options.unit}: {', '.join(bad)} not supported by {__file__}")

    environment = {"PATH": SYSTEMD_PATH, "LANG": os.environ.get("LANG", "C.UTF-8")}
    files, command, directory, umask = [], [], "/", None
    for key, value in settings:
        if key == "Environment":
            environment.update(assignments(value))
        elif key == "EnvironmentFile":
            optional = value.startswith("-")
            files.append((Path(value.removeprefix("-")), optional))
        elif key == "ExecStart":
            command = shlex.split(value.lstrip("-@:+!"))
        elif key == "WorkingDirectory":
            directory = value.removeprefix("-")
        elif key == "UMask":
            umask = int(value, 8)
        elif key in ("RuntimeDirectory", "StateDirectory"):
            root = "/run" if key == "RuntimeDirectory" else "/var/lib"
            for name in value.split():
                made = Path(_substituted(f"{root}/{name}", options.path))
                made.mkdir(parents=True, exist_ok=True)
                environment[key.upper()] = str(made)
    for path, optional in files:
        if path.exists() or not optional:
            environment.update(environment_file(path))
    if not command:
        sys.exit(f"{options.unit}: no ExecStart")

    if options.print:
        print(
            json.dumps(
                {"command": command, "directory": directory, "environment": environment}, indent=2
            )
        )
        return
    if umask is not None:
        os.umask(umask)
    os.chdir(directory)
    os.execve(command[0], command, environment)  # noqa: S606  (the unit's own command)


def _substituted(path: str, pairs: list[str]) -> str:
    for pair in pairs:
        old, new = pair.split("=", 1)
        path = path.replace(old, new)
    return path


if __name__ == "__main__":
    main()
