# Oracle for the differential tests (tests/reference/), run with the reference's own Python.
#
# For every op file named on the command line: parse it with the reference's
# reader (`_parse_ops_file`, PyYAML CSafeLoader), split the text into op
# blocks (a block starts at a line beginning "- "), and serialise each parsed
# op again with the reference's writer (`_serialize_op`). Any block whose
# bytes differ from what the reference would have written is a format
# difference. Prints a JSON list of problems (empty when all is well).
import json
import sys
from pathlib import Path

from hypergumbo_tracker.store import _parse_ops_file, _serialize_op

problems = []
for name in sys.argv[1:]:
    path = Path(name)
    try:
        ops = _parse_ops_file(path)
    except Exception as e:  # noqa: BLE001
        problems.append(f"{name}: the reference cannot parse it: {e}")
        continue
    text = path.read_text(encoding="utf-8")
    blocks = []
    for line in text.splitlines(keepends=True):
        if line.startswith("- "):
            blocks.append(line)
        elif blocks:
            blocks[-1] += line
        else:
            problems.append(f"{name}: text before the first op: {line!r}")
    if len(blocks) != len(ops):
        problems.append(
            f"{name}: {len(blocks)} op blocks in the text but the reference parsed {len(ops)} ops"
        )
        continue
    for i, (block, op) in enumerate(zip(blocks, ops), start=1):
        again = _serialize_op(op)
        if again != block:
            problems.append(
                f"{name}: op {i} is not what the reference would write\n"
                f"--- in the file:\n{block}--- the reference writes:\n{again}"
            )
print(json.dumps(problems))
