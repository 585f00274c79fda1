#!/usr/bin/env bash
# `make demo-web`: a throwaway repo with a backlog worth looking at
# (tests/demo/backlog.sh), a web login with a fresh random password, and
# htrac-serve on it. Ctrl+C stops the server and deletes the repo.
#
# Usage: tests/demo/web.sh BIN_DIR                  build, serve, clean up
#        tests/demo/web.sh BIN_DIR --setup-only DIR build in DIR (kept) and exit
# BIN_DIR holds htrac, htrac-hook and htrac-serve. DEMO_PORT (default 7380)
# is the port; DEMO_BCRYPT_COST the password hash's cost (tests use 4).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

BIN=$(cd "${1:?usage: web.sh BIN_DIR [--setup-only DIR]}" && pwd)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backlog.sh"
[ -x "$SERVE" ] || { echo "demo: no executable $SERVE (build it with --features serve)" >&2; exit 1; }

port=${DEMO_PORT:-7380}
if [ "${2:-}" = --setup-only ]; then
    demo=${3:?usage: web.sh BIN_DIR --setup-only DIR}
    mkdir -p "$demo"
    demo=$(cd "$demo" && pwd)
else
    demo=$(mktemp -d)
    trap 'rm -rf "$demo"' EXIT
    trap 'exit 130' INT TERM
fi
export HTRAC_CACHE_DIR="$demo/.cache" HTRAC_STATE_DIR="$demo/.state"
make_repo "$demo"
cd "$demo"

echo "Building a demo backlog in $demo ..."
build_backlog
if [ -n "$FAKETIME_BIN" ]; then
    echo "(history: the last two weeks, written under faketime; see tests/demo/backlog.sh)"
else
    echo "(history: today only; install faketime (libfaketime) for two weeks of it in the Trend view)"
fi

user=demo
password=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | cut -c1-16)
printf '%s\n' "$password" | "$SERVE" passwd --user "$user" ${DEMO_BCRYPT_COST:+--cost "$DEMO_BCRYPT_COST"} >/dev/null

"$H" list
cat <<EOF

  Open   http://localhost:$port
  user:     $user
  password: $password

  To look at: 'Reject YAML anchors' (a discussion, an unread human message),
  'Release 1.0' (children, waits for two items), 'Write the README' (locked),
  'Support TOML configs too' (frozen), and Trend (priority history).
EOF

if [ "${2:-}" = --setup-only ]; then
    exit 0
fi
echo "  Ctrl+C stops the server and deletes this repo."
echo
"$SERVE" --port "$port"
