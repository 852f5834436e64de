"""Fail CI when a test was skipped for a reason other than running on the other database.

Browser tests must never be skipped in CI; a test that only makes sense on one database says
so in its reason ("only on SQLite: ..." or "only on PostgreSQL: ...").
"""

import sys
import xml.etree.ElementTree as ET

ALLOWED = ("only on SQLite", "only on PostgreSQL")


def main(paths):
    problems, allowed = [], 0
    for path in paths:
        for case in ET.parse(path).iter("testcase"):
            skipped = case.find("skipped")
            if skipped is None:
                continue
            name = f"{case.get('classname')}.{case.get('name')}"
            reason = (skipped.get("message") or "").removeprefix("Skipped: ")
            if name.startswith("tests.browser") or not reason.startswith(ALLOWED):
                problems.append(f"{path}: {name}: {reason}")
            else:
                allowed += 1
    if problems:
        print("Tests skipped in CI without an allowed reason:")
        print("\n".join(f"  {p}" for p in problems))
        return 1
    print(f"No test skipped but {allowed} that run only on the other database.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
