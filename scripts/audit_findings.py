"""Read a pip-audit or npm audit JSON report, print its findings, and say by the exit code
what CI should do (scripts/audit-dependencies.sh):

0  no known vulnerability with a fix (those without one are printed as warnings)
1  a known vulnerability that a newer version fixes: upgrade the lock
2  the audit itself failed (e.g. npm found no lock file): fix the audit
3  the advisory source gave no usable answer (unreachable, or it audited nothing): a warning

Usage: audit_findings.py pip|npm REPORT.json
Standard library only: it runs with whichever Python is at hand.
"""

import json
import sys
from pathlib import Path
from typing import Any

CLEAN, FIXABLE, FAILED, NO_ANSWER = 0, 1, 2, 3


def pip_findings(report: dict[str, Any]) -> int:
    dependencies = report.get("dependencies")
    if not isinstance(dependencies, list):
        print("pip-audit: the report lists no dependencies")
        return NO_ANSWER
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    audited = [dep for dep in dependencies if not dep.get("skip_reason")]
    if not audited:
        # The PyPI service answers "not found" for every package when the registry (or a
        # mirror of it) does not serve per-release JSON: nothing was checked at all.
        print(f"pip-audit: none of {len(dependencies)} packages could be checked")
        return NO_ANSWER
    fixable = 0
    for dep in audited:
        for vuln in dep.get("vulns", []):
            fixes = vuln.get("fix_versions") or []
            aliases = ", ".join(vuln.get("aliases") or [])
            where = f"{dep['name']} {dep['version']}: {vuln['id']}" + (
                f" ({aliases})" if aliases else ""
            )
            if fixes:
                fixable += 1
                print(f"VULNERABLE {where}, fixed in {', '.join(fixes)}")
            else:
                print(f"warning: {where}, no fixed version yet")
    for dep in skipped:
        print(f"warning: not checked: {dep['name']} {dep.get('version', '')}: {dep['skip_reason']}")
    print(f"pip-audit: {len(audited)} packages checked, {fixable} with a fixable vulnerability")
    return FIXABLE if fixable else CLEAN


def npm_findings(report: dict[str, Any]) -> int:
    vulnerabilities = report.get("vulnerabilities")
    if not isinstance(vulnerabilities, dict):
        # npm's error report. A request to the advisory endpoint that failed (refused, timed
        # out, or answered an error) names that endpoint; anything else is npm's own failure.
        message = str(report.get("message", ""))
        if "security/advisories" in message or "statusCode" in report:
            print(f"npm audit: the advisory source gave no answer ({message})")
            return NO_ANSWER
        print(f"npm audit failed: {json.dumps(report.get('error', report))}")
        return FAILED
    fixable = 0
    for name, found in sorted(vulnerabilities.items()):
        advisories = [
            via.get("url") or via.get("title") or ""
            for via in found.get("via", [])
            if isinstance(via, dict)
        ]
        where = f"{name} ({found.get('severity', '?')}, {found.get('range', '?')})" + (
            f": {', '.join(advisories)}" if advisories else ""
        )
        if found.get("fixAvailable"):
            fixable += 1
            print(f"VULNERABLE {where}, a fix is available (npm audit fix)")
        else:
            print(f"warning: {where}, no fix available")
    dependencies = report.get("metadata", {}).get("dependencies", {}).get("total", "?")
    print(f"npm audit: {dependencies} packages checked, {fixable} with a fixable vulnerability")
    return FIXABLE if fixable else CLEAN


def main(kind: str, path: str) -> int:
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"{kind}: no readable report ({exc})")
        return NO_ANSWER
    if not isinstance(report, dict):
        print(f"{kind}: the report is not a JSON object")
        return NO_ANSWER
    return pip_findings(report) if kind == "pip" else npm_findings(report)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in {"pip", "npm"}:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
