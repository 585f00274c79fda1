#!/usr/bin/env bash
# `make demo`: a human and an agent share a tracker in a throwaway git repo.
# The human sets up and locks a field; the agent picks work, is refused the
# locked field (and told why), is stopped by the human's message until it
# reads it, and is kept at work by the stop hook until nothing blocks.
#
# Usage: tests/demo/cli.sh BIN_DIR   (BIN_DIR holds htrac and htrac-hook:
# target/release for `make demo`, target/debug in tests/cli/demo.rs).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
exec 2>&1 # one stream, in order: errors appear where they happen

BIN=$(cd "${1:?usage: cli.sh BIN_DIR}" && pwd)
. "$(dirname "$0")/lib.sh"

demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
export HTRAC_CACHE_DIR="$demo/.cache" HTRAC_STATE_DIR="$demo/.state"
make_repo "$demo"
cd "$demo"

heading "1. The human sets up the tracker"
step init
say "Who counts as an agent: OS users named *_agent, and (for this demo) $AGENT_NAME:"
step config set actor_resolution.agent_usernames "$(agent_patterns)"
new_item PARSER --kind work_item --title "Parse the config file" --priority 1 --tag core
new_item ANCHORS --kind work_item --title "Reject YAML anchors in the config" --priority 2 --tag core
new_item README --kind work_item --title "Write the README" --priority 3
say "Anchors wait for the parser; and the README's priority is the human's call:"
step update "$ANCHORS" --add-blocked-by "$PARSER"
step lock "$README" priority
say "The agent's harness runs the stop hook (htrac-hook stop) whenever the agent" \
    "wants to stop: see README 'Keeping an agent at work'. Here we run it by hand."

as agent
heading "2. The agent picks work and finishes it"
step ready
step update :1 --status in_progress --note "Starting on the parser"
step update "$PARSER" --status "done" --note "Parser done; tests pass"
step show "$PARSER"
say "It would rather push the README back; the human locked that field:"
refused update "$README" --priority 4

as human
heading "3. The human has a word about the next item"
step discuss "$ANCHORS" "Reject anchors with an error that names the line; do not expand them."

as agent
heading "4. The agent must read it before it writes there"
step ready
refused discuss "$ANCHORS" "Starting on anchors"
step check-messages
step discuss "$ANCHORS" "Understood: an error naming the line, no expansion." --ack-thread
step update "$ANCHORS" --status in_progress

heading "5. The stop hook keeps the agent at work"
say "htrac-hook check is the shell form (exit 2 = may not stop, reason on stderr);" \
    "htrac-hook stop gives Claude Code the same decision as JSON."
show_cmd htrac-hook check
rc=0
"$HOOK" check || rc=$?
[ "$rc" -eq 2 ] || { echo "demo: the stop hook was expected to block (exit 2), got $rc" >&2; exit 1; }
echo "[exit 2: the agent may not stop]"
step update "$ANCHORS" --status "done" --note "Anchors are refused with the line number"
step update "$README" --status "done" --note "README written"
step count-todos
show_cmd htrac-hook check
"$HOOK" check
echo "[exit 0: the agent may stop]"

as human
printf '\n(demo: this repo is deleted now. "make demo-tui" and "make demo-web" open a\n bigger backlog in the terminal UI and the web page.)\n'
