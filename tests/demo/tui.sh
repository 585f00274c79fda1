#!/usr/bin/env bash
# `make demo-tui`: the backlog of tests/demo/backlog.sh in a throwaway repo,
# opened in the terminal UI (q quits and deletes the repo).
#
# Usage: tests/demo/tui.sh BIN_DIR   (BIN_DIR holds htrac, htrac-hook, htrac-tui)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

BIN=$(cd "${1:?usage: tui.sh BIN_DIR}" && pwd)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backlog.sh"
[ -x "$BIN/htrac-tui" ] || { echo "demo: no executable $BIN/htrac-tui (build it with --features tui)" >&2; exit 1; }

demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
export HTRAC_CACHE_DIR="$demo/.cache" HTRAC_STATE_DIR="$demo/.state" XDG_CONFIG_HOME="$demo/.config"
make_repo "$demo"
cd "$demo"
echo "Building a demo backlog in $demo ..."
build_backlog
"$BIN/htrac-tui" --tracker-root "$demo/.agent"
