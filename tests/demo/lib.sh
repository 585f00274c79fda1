# shellcheck shell=bash disable=SC2034
# Shared by the demo scripts (tests/demo/*.sh), which source it after
# setting BIN, the directory holding htrac, htrac-hook and htrac-serve.
# Every command a demo shows is printed ("human$ htrac ...") and then really
# run: what follows a command on screen is that command's own output.

H="$BIN/htrac"
HOOK="$BIN/htrac-hook"
SERVE="$BIN/htrac-serve"
for b in "$H" "$HOOK"; do
    [ -x "$b" ] || { echo "demo: no executable $b (build it first: make build)" >&2; exit 1; }
done
# The stop hook looks for the tracker above $CLAUDE_PROJECT_DIR before the
# working directory: a demo started from an agent's session must not find
# that session's tracker.
unset CLAUDE_PROJECT_DIR HTRAC_SESSION

# The demo plays both roles in one terminal. htrac tells agent from human by
# the OS user (never by an environment variable), and the ops of one OS user
# are all the human's or all the agent's, so the agent's commands run as a
# second OS user: in a user namespace (`unshare --user`, no root needed) the
# demo's own user id appears as uid 65534 (`nobody`), which the human's
# config names as an agent. In real use the agent has its own OS user
# (README "Two OS users"); only the way the second identity is made differs.
ROLE=human
AGENT_UID=65534
# my_name: this process's user name (its uid when it has none), as htrac sees it.
my_name() { id -un 2>/dev/null || id -u; }
HUMAN_NAME=$(my_name | tail -n 1)
if ! AGENT_NAME=$(unshare --user --map-user="$AGENT_UID" --map-group="$AGENT_UID" \
    bash -c "$(declare -f my_name); my_name" 2>/dev/null | tail -n 1) || [ -z "$AGENT_NAME" ]; then
    echo "demo: cannot run the agent as a second OS user: 'unshare --user' failed." >&2
    echo "The demo needs unprivileged user namespaces (util-linux's unshare). On Ubuntu" >&2
    echo "24.04 and later AppArmor restricts them; allow them for a moment with" >&2
    echo "  sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0" >&2
    exit 1
fi
if [ "$AGENT_NAME" = "$HUMAN_NAME" ]; then
    echo "demo: run it as another user than $AGENT_NAME" >&2
    exit 1
fi

# agent_patterns: the value for actor_resolution.agent_usernames that makes
# the demo's agent an agent (and leaves the human a human).
agent_patterns() { printf '["*_agent", "%s"]' "$AGENT_NAME"; }

# as ROLE [quiet]: the commands that follow are the human's or the agent's.
as() {
    ROLE=$1
    [ "${2:-}" = quiet ] && return
    case "$ROLE" in
        agent) printf '\n(demo: you are now the agent, OS user %s. In real use the agent runs as\n its own OS user; see README "Two OS users" and tests/demo/lib.sh.)\n' "$AGENT_NAME" ;;
        human) printf '\n(demo: you are the human again, OS user %s.)\n' "$HUMAN_NAME" ;;
    esac
}

# run PROG ARGS...: runs PROG as the current role.
run() {
    if [ "$ROLE" = agent ]; then
        unshare --user --map-user="$AGENT_UID" --map-group="$AGENT_UID" "$@"
    else
        "$@"
    fi
}

# say LINE...: narration, set apart from the commands' output.
say() {
    echo
    printf '# %s\n' "$@"
}

# heading TEXT
heading() { printf '\n\n=== %s ===\n' "$*"; }

# show_cmd PROG ARGS...: prints "ROLE$ PROG ARGS..." as one would type it.
show_cmd() {
    printf '\n%s$ %s' "$ROLE" "$1"
    shift
    for a in "$@"; do
        case "$a" in
            *[\ \;\#\"\'\$\`\(\)\&\|\<\>\*\?\[]* | '') printf " '%s'" "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")" ;;
            *) printf ' %s' "$a" ;;
        esac
    done
    echo
}

# step ARGS...: shows and runs `htrac ARGS...`; the demo stops if it fails.
step() {
    show_cmd htrac "$@"
    run "$H" "$@"
}

# refused ARGS...: shows and runs `htrac ARGS...`, which must be refused
# (exit 1); the demo stops if htrac lets it through.
refused() {
    show_cmd htrac "$@"
    rc=0
    run "$H" "$@" || rc=$?
    if [ "$rc" -eq 0 ]; then
        echo "demo: htrac was expected to refuse this, but it succeeded" >&2
        exit 1
    fi
    echo "[exit $rc: refused]"
}

# short ID: the kind prefix and first syllable (WI-fohog), as htrac prints it.
short() { printf '%s' "$1" | cut -d- -f1,2; }

# new_item VAR ARGS...: shows and runs `htrac add ARGS...`, keeping the
# short form of the ID it prints in $VAR.
new_item() {
    var=$1
    shift
    show_cmd htrac add "$@"
    id=$(run "$H" add "$@")
    echo "$id"
    eval "$var=\$(short \"\$id\")"
}

# make_repo DIR: an empty git repository with one commit, in DIR.
make_repo() {
    git -C "$1" init -q -b dev
    git -C "$1" -c user.email=demo@example.com -c user.name=demo commit -q --allow-empty -m root
}
