#!/usr/bin/env bash
# The whole test suite, what `make test` and CI run: prerequisites first
# (tests/prereqs.sh: installs them as root, else names each missing piece and
# stops before building), then every cargo test binary to the end
# (--no-fail-fast), the doc tests, and the two-user permission playbook.
# Closes with one honest line, `N passed, N failed` (tests/summary.py): a
# group that crashed, was skipped or never ran is never counted as passed.
set -uo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}

bash tests/prereqs.sh || exit 1

mkdir -p target
log=target/test.log
plog=target/test-permission.log
: >"$log"
status=0
$CARGO test --locked --no-fail-fast --all-targets --all-features 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
$CARGO test --locked --no-fail-fast --doc --all-features 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
echo "== permission playbook (two OS users)"
HTRAC=${HTRAC:-$PWD/target/debug/htrac} bash tests/permission/run.sh 2>&1 | tee "$plog"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== summary"
python3 tests/summary.py "$log" "$plog" || status=1
exit "$status"
