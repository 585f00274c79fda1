# shellcheck shell=bash disable=SC2034
# Sourced by tests/demo/web.sh and tests/demo/tui.sh (after lib.sh), in an
# empty git repository: `build_backlog` writes a backlog worth looking at —
# dependencies, a parent with children, a discussion ending in an unread
# human message, a locked item, a frozen one, and two weeks of history for
# the Trend view (when `faketime` is installed) — all through htrac itself.
#
# History: htrac stamps every op with the clock, and has no way to back-date
# one. With libfaketime's `faketime` on the PATH the demo runs the earlier
# commands under a clock set back N days (the ops really are htrac's, only
# the clock is not today's); without it everything happens today, and the
# Trend view has a single point.

if [ -n "${DEMO_NO_FAKETIME:-}" ] || ! command -v faketime >/dev/null 2>&1; then
    FAKETIME_BIN=
else
    FAKETIME_BIN=$(command -v faketime)
fi

# on_day N ARGS...: `htrac ARGS...` as if run N days ago (today without
# faketime); its output (the ID of an add) on stdout.
on_day() {
    n=$1
    shift
    if [ -n "$FAKETIME_BIN" ] && [ "$n" -gt 0 ]; then
        # The read cache trusts file times, which faketime does not move.
        HTRAC_NO_CACHE=1 run "$FAKETIME_BIN" "$n days ago" "$H" "$@"
    else
        run "$H" "$@"
    fi
}

# add_on_day VAR N ARGS...: `htrac add ARGS...` N days ago, its ID in $VAR.
add_on_day() {
    var=$1
    day=$2
    shift 2
    id=$(on_day "$day" add "$@")
    eval "$var=\$id"
}

build_backlog() {
    on_day 14 init >/dev/null
    on_day 14 config set actor_resolution.agent_usernames "$(agent_patterns)" >/dev/null
    add_on_day PARSER 14 --kind work_item --title "Parse the config file" --priority 1 --tag core \
        --description "Read .app.yaml into the Config struct; unknown keys are an error."
    add_on_day ANCHORS 14 --kind work_item --title "Reject YAML anchors in the config" --priority 2 --tag core
    add_on_day ERRORS 13 --kind work_item --title "Error messages name the file and line" --priority 2 --tag core
    add_on_day README 13 --kind work_item --title "Write the README" --priority 3 --tag docs
    add_on_day RELEASE 12 --kind work_item --title "Release 1.0" --priority 2
    add_on_day TAG 12 --kind work_item --title "Tag v1.0 and write the changelog" --priority 2 --parent "$RELEASE"
    add_on_day PUBLISH 12 --kind work_item --title "Publish to crates.io" --priority 2 --parent "$RELEASE"
    add_on_day BENCH 11 --kind work_item --title "Benchmark parsing a 10 MB config" --priority 3 --tag perf
    add_on_day TOML 11 --kind work_item --title "Support TOML configs too" --priority 3 --tag core
    add_on_day INV 10 --kind invariant --title "Every config key is documented" \
        --field statement="each key the parser accepts appears in the README's table" \
        --field root_cause="keys were added in code and forgotten in the docs"

    # What must come first (A --isbefore B: finish A before B).
    on_day 10 update "$ANCHORS" --add-blocked-by "$PARSER" >/dev/null
    on_day 10 update "$ERRORS" --add-blocked-by "$PARSER" >/dev/null
    on_day 10 update "$RELEASE" --add-blocked-by "$ERRORS" --add-blocked-by "$README" >/dev/null
    on_day 10 update "$PUBLISH" --add-blocked-by "$TAG" >/dev/null

    # Work done, and priorities that moved (the Trend view's history).
    as agent quiet
    on_day 9 update "$PARSER" --status in_progress --note "Starting with serde_yaml" >/dev/null
    on_day 8 update "$BENCH" --priority 1 --note "A user reports 4 s start-up on a big config" >/dev/null
    add_on_day CRASH 8 --kind work_item --title "Crash on an empty config file" --priority 0 --tag core
    on_day 7 update "$CRASH" --status "done" --note "An empty file is now the default config" >/dev/null
    on_day 6 update "$PARSER" --status "done" --note "Parser merged" >/dev/null
    on_day 5 update "$BENCH" --status in_progress >/dev/null
    on_day 4 update "$BENCH" --status "done" --note "2 ms for 10 MB after dropping the regex" >/dev/null
    on_day 4 update "$ANCHORS" --status in_progress >/dev/null
    on_day 3 discuss "$ANCHORS" "Anchors: should we reject them or expand them?" >/dev/null
    as human quiet
    on_day 3 discuss "$ANCHORS" "Reject them: expanding invites billion-laughs configs." >/dev/null
    as agent quiet
    on_day 2 discuss "$ANCHORS" "Rejecting, with the line of the first anchor." --ack-thread >/dev/null
    on_day 2 update "$ERRORS" --status in_progress >/dev/null
    on_day 1 update "$README" --priority 2 --note "Users keep asking how to configure it" >/dev/null
    on_day 1 update "$TOML" --priority 4 --note "Nobody asked for it" >/dev/null
    as human quiet

    # Today: the human's decisions.
    on_day 0 discuss "$ANCHORS" "Also name the anchor in the error, please." >/dev/null
    on_day 0 update "$RELEASE" --priority 1 --note "Users are waiting: release first" >/dev/null
    on_day 0 lock "$README" priority status >/dev/null
    on_day 0 discuss "$TOML" "Not before 2.0: frozen until then." >/dev/null
    on_day 0 freeze "$TOML" >/dev/null
}
