#!/usr/bin/env bash
# Permission Test Playbook (spec: cli.md section 8) with two real OS users.
#
# Creates a group (htrac_dev) and two users (htrac_human, htrac_agent: the
# agent matches the default `*_agent` pattern), a git repo shared through the
# group with setgid directories, then runs htrac as each user in four phases
# mirroring the reference's four scripts: agent / human / agent / human.
# Every check is recorded; a PASS/FAIL table closes the run; the exit status
# is 1 if any check failed. A trap always removes the users, the group and the
# temporary directory. No global git config is touched: git's safe.directory
# is given per invocation through GIT_CONFIG_COUNT/KEY/VALUE.
#
# Needs root (to create users). Not able to run is a failure (exit 1, with a
# `permission playbook: 0 passed, 1 failed` line): it never reports success
# without running.
#
# Environment: HTRAC=/path/to/htrac   use this binary instead of building one
#              KEEP_WORK=1            keep the temp directory (users are still removed)
#              PERM_TMPDIR=DIR        where to make the temp directory (default /tmp); every
#                                     directory above it must be traversable by both users
#              VERBOSE=1              also show the stderr of passing checks (refusal messages)
#              PERM_HUMAN, PERM_AGENT, PERM_GROUP   the user and group names (default
#                                     htrac_human, htrac_agent, htrac_dev)
# shellcheck disable=SC2016  # sh -c scripts take their arguments as $1...: single quotes on purpose
set -euo pipefail

# Overridable so two runs on one machine cannot collide (the agent's name
# must still match `*_agent`).
HUMAN=${PERM_HUMAN:-htrac_human}
AGENT=${PERM_AGENT:-htrac_agent}
GROUP=${PERM_GROUP:-htrac_dev}
case $AGENT in *_agent) ;; *) echo "error: PERM_AGENT must match *_agent (got '$AGENT')"; exit 1 ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)

say() { printf '%s\n' "$*"; }
banner() {
  say "################################################################################"
  say "## $*"
  say "################################################################################"
}

# Not able to run: a failure, naming what is missing.
cannot_run() {
  banner "FAILED: permission playbook cannot run: $1"
  say "permission playbook: 0 passed, 1 failed"
  exit 1
}

# ---------------------------------------------------------------------------
# Pre-flight
# ---------------------------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
  cannot_run "permission playbook needs root to create users (run: sudo make test-permission)"
fi
for tool in useradd userdel groupadd groupdel getent git python3 ssh-keygen; do
  command -v "$tool" >/dev/null 2>&1 ||
    cannot_run "permission playbook needs '$tool' (Debian: apt-get install passwd git python3)"
done
if command -v runuser >/dev/null 2>&1; then
  SWITCH=runuser
elif command -v setpriv >/dev/null 2>&1; then
  SWITCH=setpriv
else
  cannot_run "permission playbook needs runuser or setpriv (Debian: apt-get install util-linux)"
fi
# Never take over accounts this run did not create.
for name in "$HUMAN" "$AGENT"; do
  if getent passwd "$name" >/dev/null; then
    say "error: user '$name' already exists (left by an interrupted run?)."
    say "       Remove it first: userdel -r $name"
    exit 1
  fi
done
if getent group "$GROUP" >/dev/null; then
  say "error: group '$GROUP' already exists (left by an interrupted run?). Remove it: groupdel $GROUP"
  exit 1
fi

# ---------------------------------------------------------------------------
# Clean-up: always, whatever happens from here on
# ---------------------------------------------------------------------------

CREATED_USERS=()
CREATED_GROUP=
WORK=
cleanup() {
  local rc=$?
  set +e
  cd /
  local u
  for u in "${CREATED_USERS[@]}"; do
    userdel -r "$u" >/dev/null 2>&1 || userdel "$u" >/dev/null 2>&1 ||
      say "warning: could not remove user $u"
    # useradd -U made a private group of the same name; userdel normally removes it.
    getent group "$u" >/dev/null && groupdel "$u" >/dev/null 2>&1
  done
  if [ -n "$CREATED_GROUP" ]; then
    groupdel "$GROUP" >/dev/null 2>&1 || say "warning: could not remove group $GROUP"
  fi
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    if [ "${KEEP_WORK:-}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
  fi
  # No safe.directory entry to remove: none was ever written to a config file.
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Build htrac once, into a place both users can execute
# ---------------------------------------------------------------------------

if [ -n "${HTRAC:-}" ]; then
  SRC_BIN=$HTRAC
else
  say "== building htrac (cargo build --release --locked)"
  (cd "$TOP" && cargo build --release --locked --quiet)
  SRC_BIN=$TOP/target/release/htrac
fi
[ -x "$SRC_BIN" ] || { say "error: no htrac binary at $SRC_BIN"; exit 1; }

START=$(date +%s)
WORK=$(mktemp -d "${PERM_TMPDIR:-/tmp}/htrac-perm.XXXXXX")
chmod 755 "$WORK"
install -m 755 "$SRC_BIN" "$WORK/htrac"
BIN=$WORK/htrac

# ---------------------------------------------------------------------------
# Users and group
# ---------------------------------------------------------------------------

groupadd "$GROUP" || cannot_run "groupadd $GROUP failed: this machine cannot create groups"
CREATED_GROUP=1
for u in "$HUMAN" "$AGENT"; do
  # -U: each user keeps a private primary group, so files land in htrac_dev
  # only because of the setgid directories, as on a real machine.
  useradd -m -U -G "$GROUP" -s /bin/sh "$u" ||
    cannot_run "useradd $u failed: this machine cannot create users"
  CREATED_USERS+=("$u")
  mkdir -p "$WORK/cache/$u"
  chown "$u:" "$WORK/cache/$u"
done

# run_as USER CMD...: CMD as USER, with a clean environment, umask 022 (so the
# group-writable op files prove that htrac itself makes them so; $UMASK
# overrides), the user's
# own HOME and htrac cache, and git told to trust the shared repository for
# this one invocation only.
run_as() {
  local user=$1 home
  shift
  home=$(getent passwd "$user" | cut -d: -f6)
  local envv=(env -i
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    HOME="$home" USER="$user" LOGNAME="$user" LANG=C.UTF-8
    HTRAC_CACHE_DIR="$WORK/cache/$user"
    GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'
    ${EXTRA_ENV[@]+"${EXTRA_ENV[@]}"}
    sh -c 'umask "$1" && shift && exec "$@"' sh "${UMASK:-022}" "$@")
  if [ "$SWITCH" = runuser ]; then
    runuser -u "$user" -- "${envv[@]}"
  else
    setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- "${envv[@]}"
  fi
}
EXTRA_ENV=()
as_human() { run_as "$HUMAN" "$@"; }
as_agent() { run_as "$AGENT" "$@"; }
# htrac as each user, with the playbook's global flags.
ht_human() { as_human "$BIN" --tracker-root "$ROOT" --no-auto-sync --json "$@"; }
ht_agent() { as_agent "$BIN" --tracker-root "$ROOT" --no-auto-sync --json "$@"; }
ht_human_text() { as_human "$BIN" --tracker-root "$ROOT" --no-auto-sync "$@"; } # without --json
# git as each user, with an identity.
git_as() {
  local user=$1
  shift
  # git itself writes some files (COMMIT_EDITMSG, ...) with the plain umask
  # even when core.sharedRepository=group: users sharing a work tree need 002.
  UMASK=002 run_as "$user" git -C "$REPO" -c user.name="$user" -c user.email="$user@example.invalid" "$@"
}

# ---------------------------------------------------------------------------
# Recording checks
# ---------------------------------------------------------------------------

R_ID=() R_PHASE=() R_NAME=() R_RESULT=()
PHASE=0
OUT='' ERR='' RC=0
CUR_CMD=

record() { # ID NAME PROBLEM...   (no problem = PASS)
  local id=$1 name=$2
  shift 2
  R_ID+=("$id") R_PHASE+=("$PHASE") R_NAME+=("$name")
  if [ $# -eq 0 ]; then
    R_RESULT+=(PASS)
    printf '  PASS  %-6s %s\n' "$id" "$name"
    if [ "${VERBOSE:-}" = 1 ] && [ -n "$CUR_CMD" ] && [ -n "$ERR" ]; then
      printf '%s\n' "$ERR" | head -n 3 | sed 's/^/          stderr| /'
    fi
  else
    R_RESULT+=(FAIL)
    printf '  FAIL  %-6s %s\n' "$id" "$name"
    local p
    for p in "$@"; do printf '          - %s\n' "$p"; done
    if [ -n "$CUR_CMD" ]; then
      printf '          command: %s\n' "$CUR_CMD"
      printf '          exit: %s\n' "$RC"
      [ -z "$OUT" ] || printf '%s\n' "$OUT" | head -n 15 | sed 's/^/          stdout| /'
      [ -z "$ERR" ] || printf '%s\n' "$ERR" | head -n 15 | sed 's/^/          stderr| /'
    fi
  fi
  CUR_CMD=
}

# The state of the whole .agent/ tree: every path with its mode, owner, group,
# size and content hash. Refused commands must leave it exactly as it was.
tree_state() {
  (cd "$ROOT" && find . -printf '%p %M %u %g %s\n' | LC_ALL=C sort &&
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

# What changed between two tree_state snapshots, on one line.
tree_diff() {
  { diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") | grep '^[<>]' | head -n 6 | tr '\n' ';'; } || true
}

# check ID NAME EXPECTED_EXIT [--err RE] [--out RE] [--any RE] [--same] -- CMD...
#   EXPECTED_EXIT: a number, or '!0' for "any failure".
#   --err/--out/--any: stderr / stdout / either must match RE (grep -Ei).
#   --same: .agent/ must be byte-for-byte unchanged afterwards (refusals).
# Leaves OUT, ERR and RC for follow-up checks.
check() {
  local id=$1 name=$2 want=$3
  shift 3
  local err_re='' out_re='' any_re='' same='' before=''
  while [ "$1" != -- ]; do
    case $1 in
      --err) err_re=$2; shift 2 ;;
      --out) out_re=$2; shift 2 ;;
      --any) any_re=$2; shift 2 ;;
      --same) same=1; shift ;;
      *) say "check: unknown option $1"; exit 2 ;;
    esac
  done
  shift
  [ -z "$same" ] || before=$(tree_state)
  set +e
  "$@" >"$WORK/out" 2>"$WORK/err"
  RC=$?
  set -e
  OUT=$(cat "$WORK/out")
  ERR=$(cat "$WORK/err")
  CUR_CMD="$*"
  CUR_CMD=${CUR_CMD//"$BIN --tracker-root $ROOT --no-auto-sync --json"/htrac}
  CUR_CMD=${CUR_CMD//"$BIN --tracker-root $ROOT --no-auto-sync"/htrac}
  local problems=()
  if [ "$want" = '!0' ]; then
    [ "$RC" -ne 0 ] || problems+=("exit 0, expected a failure")
  elif [ "$RC" -ne "$want" ]; then
    problems+=("exit $RC, expected $want")
  fi
  [ -z "$err_re" ] || grep -Eqi -- "$err_re" <<<"$ERR" || problems+=("stderr does not match /$err_re/")
  [ -z "$out_re" ] || grep -Eqi -- "$out_re" <<<"$OUT" || problems+=("stdout does not match /$out_re/")
  [ -z "$any_re" ] || grep -Eqi -- "$any_re" <<<"$OUT$ERR" || problems+=("output does not match /$any_re/")
  if [ -n "$same" ]; then
    local after
    after=$(tree_state)
    if [ "$before" != "$after" ]; then
      problems+=(".agent/ changed: $(tree_diff "$before" "$after")")
    fi
  fi
  record "$id" "$name" ${problems[@]+"${problems[@]}"}
}

# expect ID NAME GOT WANT: a plain comparison.
expect() {
  if [ "$3" = "$4" ]; then record "$1" "$2"; else record "$1" "$2" "got '$3', expected '$4'"; fi
}

# refused ID NAME [--err RE] -- ARGS...: an agent htrac command that must be
# refused with exit 1, an error naming the rule, and no change on disk.
refused() {
  local id=$1 name=$2 re='human'
  shift 2
  if [ "$1" = --err ]; then re=$2; shift 2; fi
  [ "$1" = -- ] && shift
  check "$id" "$name" 1 --err "$re" --same -- ht_agent "$@"
}

# json EXPR JSON: evaluate a Python expression over the parsed JSON `d`;
# prints the result (strings bare, the rest as JSON), or <bad json> if unparsable.
json() {
  python3 - "$1" "$2" <<'PY' || true
import json, sys
try:
    d = json.loads(sys.argv[2])
    v = eval(sys.argv[1], {"d": d})
except Exception as e:
    print("<bad json: %s>" % type(e).__name__)
    sys.exit(0)
print(v if isinstance(v, str) else json.dumps(v))
PY
}
show_json() { # ITEM: the item's show object, read as the human
  local out
  out=$(ht_human show "$1" 2>/dev/null) || true
  printf '%s' "$out"
}
ops_file() { # TIER-DIR ID
  printf '%s/%s/.%s.ops' "$ROOT" "$1" "$2"
}
mode_of() { stat -c '%a %G' "$1" 2>/dev/null || echo "missing"; }

phase() {
  PHASE=$1
  say ""
  say "== phase $1 — $2"
}

# ---------------------------------------------------------------------------
# Set-up (Script 1 of the spec): the repo, shared through the group. Done by
# the human, with root only creating the empty directory for them.
# ---------------------------------------------------------------------------

phase 0 "set-up: a repo shared through $GROUP, tracker initialised by the human"
REPO=$WORK/repo
ROOT=$REPO/.agent
CONFIG=$ROOT/tracker/config.yaml
for u in "$HUMAN" "$AGENT"; do
  if ! run_as "$u" "$BIN" --help >/dev/null 2>"$WORK/err"; then
    say "error: $u cannot run $BIN (a directory above it not traversable, or mounted noexec?):"
    sed 's/^/  | /' "$WORK/err"
    say "       set PERM_TMPDIR to a directory both users can reach and execute from"
    exit 1
  fi
done
mkdir "$REPO"
chown "$HUMAN:$GROUP" "$REPO"
chmod 2775 "$REPO"
cd "$REPO"

must() { # a set-up step: abort the run if it fails
  if ! "$@" >"$WORK/out" 2>&1; then
    say "error: set-up step failed: $*"
    sed 's/^/  | /' "$WORK/out"
    exit 1
  fi
}
must git_as "$HUMAN" init -q -b dev

check 0.1 "agent 'htrac init' refused (init is human-only), creates nothing" 1 --err human -- \
  as_agent "$BIN" --tracker-root "$ROOT" --no-auto-sync --json init
expect 0.1a "the refused init left no .agent/ behind" "$(test -e "$ROOT" && echo exists || echo absent)" absent
rm -rf "$ROOT"

check 0.2 "human 'htrac init' → 0" 0 --out '"root"' -- \
  as_human "$BIN" --tracker-root "$ROOT" --no-auto-sync --json init
[ -f "$CONFIG" ] || { say "error: htrac init did not create $CONFIG; cannot continue"; exit 1; }
expect 0.3 "config.yaml is owned by the human, mode 0444" "$(stat -c '%U %a' "$CONFIG")" "$HUMAN 444"

# The playbook's config, written by its owner (chmod u+w, write, chmod 444).
write_config() {
  as_human sh -c 'chmod u+w "$1" && cat > "$1" && chmod 444 "$1"' sh "$CONFIG"
}
must write_config <<'YAML'
# Permission playbook config (cli.md section 8).
kinds:
  invariant:
    prefix: INV
    description: "Discovered invariant with root cause analysis"
    fields_schema:
      statement:
        type: text
        required: true
      root_cause:
        type: text
        required: true
  work_item:
    prefix: WI
    description: "Backlog item"
statuses:
  - todo_hard
  - todo_soft
  - in_progress
  - needs_human_review
  - done
  - wont_do
  - deleted
stop_hook:
  blocking_statuses: [todo_hard, todo_soft]
  resolved_statuses: [done, wont_do, deleted]
  human_only_statuses: [deleted]
  scope: all
actor_resolution:
  agent_usernames:
    - "*_agent"
lamport_branches:
  - dev
YAML
expect 0.4 "edited config.yaml is back to mode 0444, owned by the human" "$(stat -c '%U %a' "$CONFIG")" "$HUMAN 444"

# Group sharing, as the human (a member of the group, no root needed):
# every directory of .agent/ setgid so new files join htrac_dev; only the
# three tier directories group-writable (the parents of config.yaml are not,
# so the agent can neither write nor replace it); .git shared with the group.
TIER_DIRS=(tracker/.ops tracker-workspace/.ops tracker-workspace/stealth)
must as_human sh -c '
  set -e
  cd "$1"
  chgrp -R '"$GROUP"' .agent
  find .agent -type d -exec chmod g+s {} +
  chmod g+rwx .agent/tracker/.ops .agent/tracker-workspace/.ops .agent/tracker-workspace/stealth
  git config core.sharedRepository group
  chgrp -R '"$GROUP"' .git
  chmod -R g+rwX .git
  find .git -type d -exec chmod g+s {} +
' sh "$REPO"
must git_as "$HUMAN" add -A .agent
must git_as "$HUMAN" commit -q -m "tracker: init"

# ---------------------------------------------------------------------------
# Phase 1 (Script 1, agent): what an agent may do, and what it may not.
# ---------------------------------------------------------------------------

phase 1 "agent: capabilities and human-only refusals"
check 1.1 "agent add work_item → 0, prints {\"id\": ...}" 0 --out '"id": *"WI-' -- \
  ht_agent add --kind work_item --title "Agent work item"
WI=$(json 'd["id"]' "$OUT"); [[ $WI == WI-* ]] || WI="WI-MISSING"

check 1.2 "agent add invariant with statement + root_cause → 0" 0 --out '"id": *"INV-' -- \
  ht_agent add --kind invariant --title "Agent invariant" \
  --field statement="Test statement" --field root_cause="Test cause"
INV=$(json 'd["id"]' "$OUT"); [[ $INV == INV-* ]] || INV="INV-MISSING"

check 1.2a "agent add invariant without its required fields → 1" 1 --err 'root_cause|statement|required' --same -- \
  ht_agent add --kind invariant --title "Incomplete invariant"

check 1.3 "agent discuss → 0" 0 --out '"ok": *true' -- ht_agent discuss "$WI" "Agent comment"

check 1.4 "agent adds a second work item (freeze target) → 0" 0 --out '"id"' -- \
  ht_agent add --kind work_item --title "Freeze target"
FRZ=$(json 'd["id"]' "$OUT"); [[ $FRZ == WI-* ]] || FRZ="WI-MISSING-FRZ"

expect 1.4a "agent-created op file is rw-rw-r--, group $GROUP (umask was 022)" \
  "$(mode_of "$(ops_file tracker-workspace/.ops "$WI")")" "664 $GROUP"

refused 1.5 "agent lock WI status → 1 (human only), nothing written" -- lock "$WI" status
refused 1.6 "agent unlock WI status → 1 (human only), nothing written" -- unlock "$WI" status
refused 1.7 "agent discuss WI --clear → 1 (human only), nothing written" -- discuss "$WI" --clear
refused 1.8 "agent stealth WI → 1 (human only), nothing written" -- stealth "$WI"
refused 1.9 "agent unstealth WI → 1, error names human authority or 'cannot move'" \
  --err 'human authority|cannot move' -- unstealth "$WI"
refused 1.10 "agent delete WI → 1 (deleted is human-only), nothing written" -- delete "$WI"
refused 1.11 "agent freeze WI → 1 (human only), nothing written" -- freeze "$WI"
refused 1.12 "agent unfreeze WI → 1 (human only), nothing written" -- unfreeze "$WI"
# The rest of the human-only list (cli.md 1b, core.md "Human-only").
refused 1.13 "agent update WI --status deleted → 1 (human-only status)" -- update "$WI" --status deleted
refused 1.14 "agent add --status deleted → 1 (human-only status)" -- \
  add --kind work_item --title "Born deleted" --status deleted
refused 1.15 "agent repair-drift → 1 (human only)" -- repair-drift "$FRZ"
refused 1.16 "agent reconcile-reset → 1 (human only)" -- reconcile-reset "$FRZ"
refused 1.17 "agent init on an existing tracker → 1 (human only)" -- init
refused 1.18 "agent fork-setup → 1 (human only), config untouched" -- fork-setup
refused 1.19 "agent edit-mode on → 1 (human only)" -- edit-mode on
refused 1.20 "agent edit-mode off → 1 (human only)" -- edit-mode off
# Agent-ness comes from the real uid, not from the environment.
EXTRA_ENV=("USER=$HUMAN" "LOGNAME=$HUMAN")
refused 1.21 "agent with USER/LOGNAME=$HUMAN in its env: lock still refused" -- lock "$WI" status
EXTRA_ENV=()

# ---------------------------------------------------------------------------
# Phase 2 (Script 2, human): governance powers.
# ---------------------------------------------------------------------------

phase 2 "human: governance powers"
WI_FILE=$(ops_file tracker-workspace/.ops "$WI")
check 2.1 "human lock WI status → 0, {\"ok\": true}" 0 --out '"ok": *true' -- ht_human lock "$WI" status
expect 2.1a "WI shows locked_fields [status]" "$(json 'd["locked_fields"]' "$(show_json "$WI")")" '["status"]'
expect 2.1b "the human appended to the agent's file (file still the agent's, last op by: human)" \
  "$(stat -c %U "$WI_FILE") $(grep -o 'by: [a-z]*' "$WI_FILE" | tail -n 1)" "$AGENT by: human"
check 2.2 "human discuss WI → 0" 0 -- ht_human discuss "$WI" "Human comment"
check 2.3 "human discuss WI --clear → 0" 0 -- ht_human discuss "$WI" --clear
expect 2.3a "WI discussion is empty after --clear" "$(json 'len(d["discussion"])' "$(show_json "$WI")")" 0
check 2.4 "human lock WI discussion → 0" 0 -- ht_human lock "$WI" discussion
check 2.5 "human unlock WI discussion → 0" 0 -- ht_human unlock "$WI" discussion
expect 2.5a "WI locked_fields back to [status]" "$(json 'd["locked_fields"]' "$(show_json "$WI")")" '["status"]'
check 2.6 "human stealth WI → 0" 0 --out '"ok": *true' -- ht_human stealth "$WI"
expect 2.6a "WI is in the stealth tier, its file in stealth/" \
  "$(json 'd["tier"]' "$(show_json "$WI")") $(test -f "$(ops_file tracker-workspace/stealth "$WI")" && echo file)" "stealth file"
check 2.7 "human unstealth WI → 0" 0 --out '"ok": *true' -- ht_human unstealth "$WI"
expect 2.7a "WI is back in the workspace tier" "$(json 'd["tier"]' "$(show_json "$WI")")" workspace
check 2.8a "before delete: WI is in ready" 0 --out "\"$WI\"" -- ht_human ready
check 2.8 "human delete WI → 0, {\"ok\": true, \"inbound_isbefore_cleared\": N}" 0 \
  --out '"inbound_isbefore_cleared": *[0-9]+' -- ht_human delete "$WI"
check 2.9 "ready --json after the delete → 0" 0 --out '"ready"' -- ht_human ready
expect 2.9a "deleted WI absent from ready (lines naming it)" "$(grep -c -- "$WI" <<<"$OUT" || true)" 0
expect 2.9b "WI status is deleted" "$(json 'd["status"]' "$(show_json "$WI")")" deleted
check 2.10 "human lock INV status → 0" 0 -- ht_human lock "$INV" status
check 2.11 "human lock INV Title (mixed case) → 0" 0 -- ht_human lock "$INV" Title
expect 2.11a "INV locked_fields are lower-cased: [status, title]" \
  "$(json 'd["locked_fields"]' "$(show_json "$INV")")" '["status", "title"]'
check 2.12 "human lock INV nonexistent_field → 1, nothing written" 1 --same -- ht_human lock "$INV" nonexistent_field
check 2.13 "human freeze the freeze target → 0" 0 --out '"ok": *true' -- ht_human freeze "$FRZ"
expect 2.13a "freeze target shows frozen: true" "$(json 'd["frozen"]' "$(show_json "$FRZ")")" true
# Script 2 step 14 replaces an agent-written config with a human-owned 0644
# copy; here the human wrote it from the start, so check that instead.
expect 2.14 "config.yaml human-owned, not writable by group or others" "$(stat -c '%U %a' "$CONFIG")" "$HUMAN 444"
# Files the human creates are appendable by the agent (checked in 3.x).
check 2.15 "human adds an item → 0" 0 --out '"id"' -- ht_human add --kind work_item --title "Human item"
HUM=$(json 'd["id"]' "$OUT"); [[ $HUM == WI-* ]] || HUM="WI-MISSING-HUM"
expect 2.15a "human-created op file is rw-rw-r--, group $GROUP (umask was 022)" \
  "$(mode_of "$(ops_file tracker-workspace/.ops "$HUM")")" "664 $GROUP"
check 2.16 "human discuss on the human item → 0" 0 -- ht_human discuss "$HUM" "Please look at this"
check 2.17 "human commits the tracker (shared .git)" 0 -- git_as "$HUMAN" add -A .agent
check 2.17a "human git commit → 0" 0 -- git_as "$HUMAN" commit -q -m "tracker: human governance"

# ---------------------------------------------------------------------------
# Phase 3 (Script 3, agent): held by the human's locks and freeze; the file
# system keeps config.yaml out of reach.
# ---------------------------------------------------------------------------

phase 3 "agent: constrained by locks, freeze and file permissions"
check 3.1 "agent update INV --status done → 1 (locked field), nothing written" 1 --err 'lock' --same -- \
  ht_agent update "$INV" --status "done"
check 3.2 "agent update INV --priority 1 → 0 (field not locked)" 0 -- ht_agent update "$INV" --priority 1
expect 3.2a "INV priority is 1" "$(json 'd["priority"]' "$(show_json "$INV")")" 1
check 3.3 "agent discuss INV → 0 (discussion not locked)" 0 -- ht_agent discuss "$INV" "Agent follow-up"
check 3.4 "agent update INV --title (locked as 'Title') → 1, nothing written" 1 --err 'lock' --same -- \
  ht_agent update "$INV" --title "Renamed by the agent"
check 3.4a "agent update on the frozen item → 1, nothing written" 1 --err 'frozen' --same -- \
  ht_agent update "$FRZ" --priority 0
check 3.4b "agent discuss on the frozen item → 1, nothing written" 1 --err 'frozen' --same -- \
  ht_agent discuss "$FRZ" "Agent tries to talk"
# The agent appends to a file the human created — but the human's message is
# unread, so discuss first shows it and refuses; --ack-thread writes.
HUM_FILE=$(ops_file tracker-workspace/.ops "$HUM")
check 3.4c "agent discuss after an unread human message → 1, shows it, nothing written" 1 \
  --any 'Please look at this' --same -- ht_agent discuss "$HUM" "Agent reply"
check 3.4d "agent discuss --ack-thread → 0 (appends to the human's file)" 0 -- \
  ht_agent discuss "$HUM" "Agent reply" --ack-thread
expect 3.4e "the agent appended to the human's file (file still the human's, last op by: agent)" \
  "$(stat -c %U "$HUM_FILE") $(grep -o 'by: [a-z]*' "$HUM_FILE" | tail -n 1)" "$HUMAN by: agent"

CONFIG_SUM=$(sha256sum "$CONFIG")
check 3.5 "agent cannot write config.yaml (a real append fails)" '!0' --err 'denied' --same -- \
  as_agent sh -c 'printf "  - \"*\"\n" >> "$1"' sh "$CONFIG"
check 3.5a "agent 'test -w config.yaml' is false" 1 -- as_agent test -w "$CONFIG"
check 3.5b "agent cannot chmod config.yaml" '!0' --same -- as_agent chmod u+w "$CONFIG"
check 3.5c "agent cannot replace config.yaml (rename in tracker/ fails)" '!0' --same -- \
  as_agent mv "$CONFIG" "$CONFIG.old"
check 3.5d "agent cannot create a file beside config.yaml" '!0' --same -- \
  as_agent sh -c ': > "$1"' sh "$ROOT/tracker/config.yaml.new"
expect 3.5e "config.yaml content unchanged" "$(sha256sum "$CONFIG")" "$CONFIG_SUM"
n=6
for d in "${TIER_DIRS[@]}"; do
  expect "3.$n" "$d group is $GROUP" "$(stat -c %G "$ROOT/$d")" "$GROUP"
  n=$((n + 1))
done
for d in "${TIER_DIRS[@]}"; do
  m=$(stat -c %a "$ROOT/$d")
  expect "3.$n" "$d has the setgid bit (mode 2xxx, group-writable)" \
    "$m $(test -g "$ROOT/$d" && echo setgid) $([ $(((8#$m >> 3) & 2)) -ne 0 ] && echo g+w)" "$m setgid g+w"
  n=$((n + 1))
done
# What the OS cannot stop: the op files are group-writable, so an agent may
# bypass htrac and append to a frozen item's file with the shell, even forge
# `by: human`. The freeze sentinel keeps the approved bytes; the human's
# repair-drift (4.0) restores them.
FRZ_FILE=$(ops_file tracker-workspace/.ops "$FRZ")
FORGED_OP="- op: update  # beef
  at: '2030-01-01T00:00:00Z'  # beef
  by: human  # beef
  actor: $HUMAN  # beef
  clock: 99  # beef
  nonce: beef  # beef
  set:  # beef
    priority: 0  # beef"
check 3.12 "agent's raw shell append (forged 'by: human') to the frozen op file → 0: the OS allows it" 0 -- \
  as_agent sh -c 'printf "%s\n" "$2" >> "$1"' sh "$FRZ_FILE" "$FORGED_OP"
expect 3.12a "htrac reads the forged op (freeze target priority 0)" "$(json 'd["priority"]' "$(show_json "$FRZ")")" 0
check 3.12b "show (text) flags the drift from the freeze sentinel" 0 --out 'DRIFTED' -- ht_human_text show "$FRZ"
check 3.13 "agent can commit to the shared .git" 0 -- git_as "$AGENT" add -A .agent
check 3.13a "agent git commit → 0" 0 -- git_as "$AGENT" commit -q -m "tracker: agent work"
# Tier moves rename files the other user owns (the directories are shared).
check 3.14 "agent promote the human's item → 0 (renames a human-owned file)" 0 -- ht_agent promote "$HUM"
HUM_FILE=$(ops_file tracker/.ops "$HUM")
expect 3.14a "the item is canonical; its file moved, still the human's" \
  "$(json 'd["tier"]' "$(show_json "$HUM")") $(stat -c %U "$HUM_FILE" 2>/dev/null || echo missing)" "canonical $HUMAN"
# An op file the other user left rw-r--r-- (an older tool, or a hand edit):
# htrac takes it over (copy + rename in the shared directory), then appends.
must as_human chmod 644 "$HUM_FILE"
check 3.15 "agent update on a human's rw-r--r-- op file → 0 (htrac takes the file over)" 0 -- \
  ht_agent update "$HUM" --priority 3
expect 3.15a "the file is now the agent's, rw-rw-r--, group $GROUP, priority 3" \
  "$(stat -c '%U %a %G' "$HUM_FILE") $(json 'd["priority"]' "$(show_json "$HUM")")" "$AGENT 664 $GROUP 3"

# ---------------------------------------------------------------------------
# Phase 4 (Script 4, human): undo the constraints, close the items.
# ---------------------------------------------------------------------------

phase 4 "human: unfreeze, unlock, resolve, count"
FRZ_SENTINEL=$ROOT/tracker-workspace/.ops/.$FRZ.frozen
check 4.0 "human repair-drift on the freeze target → 0, warns of the dropped bytes" 0 --err 'dropped' -- \
  ht_human repair-drift "$FRZ"
expect 4.0a "op file equals the freeze sentinel again" "$(cmp -s "$FRZ_FILE" "$FRZ_SENTINEL" && echo same || echo differs)" same
expect 4.0b "the forged op is gone (priority 2 again)" "$(json 'd["priority"]' "$(show_json "$FRZ")")" 2
check 4.0c "show (text) no longer flags drift" 0 -- ht_human_text show "$FRZ"
expect 4.0d "no DRIFTED line" "$(grep -c DRIFTED <<<"$OUT" || true)" 0
expect 4.0e "repaired op file is rw-rw-r--, group $GROUP (the agent can append again)" "$(mode_of "$FRZ_FILE")" "664 $GROUP"
check 4.1 "human unfreeze the freeze target → 0" 0 --out '"ok": *true' -- ht_human unfreeze "$FRZ"
expect 4.1a "freeze target shows frozen: false" "$(json 'd["frozen"]' "$(show_json "$FRZ")")" false
check 4.1b "agent may write to the unfrozen item again → 0" 0 -- ht_agent update "$FRZ" --priority 1
check 4.2 "human unlock INV title → 0" 0 -- ht_human unlock "$INV" title
check 4.3 "human unlock INV status → 0" 0 -- ht_human unlock "$INV" status
expect 4.3a "INV has no locked fields" "$(json 'd["locked_fields"]' "$(show_json "$INV")")" '[]'
check 4.4 "human update INV --status done → 0" 0 -- ht_human update "$INV" --status "done"
# The reference's script 4 leaves the freeze target open (todo_hard), which
# count-todos would count; close it, and the human's own item, first.
check 4.4a "human closes the freeze target → 0" 0 -- ht_human update "$FRZ" --status "done"
check 4.4b "human closes the human item → 0" 0 -- ht_human update "$HUM" --status wont_do
check 4.4c "human demote the human item → 0 (renames an agent-owned file)" 0 -- ht_human demote "$HUM"
expect 4.4d "the item is back in the workspace tier" "$(json 'd["tier"]' "$(show_json "$HUM")")" workspace
if ht_human count-todos --help >/dev/null 2>&1; then
  check 4.5 "count-todos → {\"count\": 0}" 0 --out '"count": *0' -- ht_human count-todos
else
  # count-todos arrives in a later issue: until then count the items whose
  # status is blocking (todo_hard, todo_soft) from `list`. Replace this
  # branch with the line above once `htrac count-todos` exists.
  check 4.5 "blocking items = 0 (count-todos not yet implemented: counted from 'list --json')" 0 -- ht_human list
  expect 4.5a "no item with a blocking status (todo_hard, todo_soft)" \
    "$(json 'len([i for i in d if i["status"] in ("todo_hard", "todo_soft")])' "$OUT")" 0
fi
# fork-setup rewrites the human's read-only config (unlock → write → relock).
check 4.6 "human fork-setup → 0, {\"ok\": true, \"scope\": \"workspace\"}" 0 --out '"scope": *"workspace"' -- \
  ht_human fork-setup
expect 4.6a "config.yaml still human-owned 0444, now with scope: workspace" \
  "$(stat -c '%U %a' "$CONFIG") $(grep -cE '^ *scope: *workspace' "$CONFIG" || true)" "$HUMAN 444 1"
check 4.7 "human stages on top of the agent's commit (shared .git both ways)" 0 -- git_as "$HUMAN" add -A .agent
check 4.7a "human git commit → 0" 0 -- git_as "$HUMAN" commit -q -m "tracker: cleanup"

# ---------------------------------------------------------------------------
# Phase 5 (issue 17): the README's loose two-user set-up (chmod -R g+rwX),
# then the human's `htrac setup`; the agent replays the attacks on human
# authority, and its day-to-day work still goes through.
# ---------------------------------------------------------------------------

phase 5 "agent attacks after htrac setup"
# The loose state the README used to recommend (root plays the admin).
must chmod -R g+rwX "$REPO"
must find "$REPO" -type d -exec chmod g+s {} +
# A local bare remote both users push to.
REMOTE=$WORK/remote.git
must git init -q --bare --shared=group "$REMOTE"
must chgrp -R "$GROUP" "$REMOTE"
must chmod -R g+rwX "$REMOTE"
must find "$REMOTE" -type d -exec chmod g+s {} +
# git drops GIT_CONFIG_COUNT for the local transport's other end: trust the
# remote in each (temporary) user's own global config.
for u in "$HUMAN" "$AGENT"; do
  must run_as "$u" git config --global --add safe.directory "$REMOTE"
  # htrac sync makes its commit with the user's own identity.
  must run_as "$u" git config --global user.name "$u"
  must run_as "$u" git config --global user.email "$u@example.invalid"
done
must git_as "$HUMAN" remote add origin "$REMOTE"
must git_as "$HUMAN" push -q origin dev
# The agent's script: it records who ran it.
EVIL=$WORK/evil
MARK=$WORK/marker
must install -d -m 777 "$EVIL"
must install -m 666 /dev/null "$MARK"
must as_agent sh -c 'printf "#!/bin/sh\nid -un >> %s\nexit 0\n" "$1" > "$2/run.sh" && chmod 755 "$2/run.sh"' sh "$MARK" "$EVIL"
# Before setup the hole is real (and the marker sees it).
check 5.0 "before setup: agent 'git config core.fsmonitor SCRIPT' → 0 (the hole)" 0 -- \
  as_agent git -C "$REPO" config core.fsmonitor "$EVIL/run.sh"
check 5.0a "before setup: the human's git status runs it" 0 -- git_as "$HUMAN" status --short
expect 5.0b "before setup: the marker names the human" "$(sort -u "$MARK")" "$HUMAN"
must truncate -s 0 "$MARK"
# htrac itself already refuses: the group (with the agent in it) can write config.yaml.
check 5.0c "before setup: the human's htrac refuses the group-writable config → 1" 1 \
  --err 'an agent could have written.*writable by group' -- as_human "$BIN" --tracker-root "$ROOT" validate
expect 5.0d "… and so ran no git, nothing of the agent's" "$(wc -c <"$MARK")" 0
must git -c safe.directory='*' -C "$REPO" config --unset core.fsmonitor
must truncate -s 0 "$MARK"
check 5.1 "human htrac setup → 0 (diagnoses and fixes the loose set-up)" 0 -- \
  as_human "$BIN" --tracker-root "$ROOT" --json setup
expect 5.1a "setup's agent_guard fixed paths" "$(json 'next(c["status"] for c in d["checks"] if c["name"]=="agent_guard")' "$OUT")" fixed
check 5.1b "human htrac setup again → 0" 0 -- as_human "$BIN" --tracker-root "$ROOT" --json setup
expect 5.1c "second run: agent_guard ok, nothing fixed" \
  "$(json '[c["status"] for c in d["checks"] if c["name"]=="agent_guard"][0] + " " + str(d["summary"]["fixed"])' "$OUT")" "ok 0"
expect 5.1d ".git/config, .git/hooks, .git/info, tracker/ not group-writable; .git and tiers sticky" \
  "$(stat -c %A "$REPO/.git/config" "$REPO/.git/hooks" "$REPO/.git/info" "$ROOT/tracker" | cut -c6 | tr -d '\n') $(stat -c %A "$REPO/.git" "$ROOT/tracker-workspace/.ops" | cut -c10 | tr -d '\n')" "---- tt"

# Items for the attacks: one locked, one frozen, by the human.
check 5.2 "human adds the lock target → 0" 0 --out '"id"' -- ht_human add --kind work_item --title "Locked by the human"
LCK=$(json 'd["id"]' "$OUT"); [[ $LCK == WI-* ]] || LCK="WI-MISSING-LCK"
check 5.2a "human locks its status → 0" 0 -- ht_human lock "$LCK" status
check 5.2b "human adds the freeze target → 0" 0 --out '"id"' -- ht_human add --kind work_item --title "Frozen by the human"
FR2=$(json 'd["id"]' "$OUT"); [[ $FR2 == WI-* ]] || FR2="WI-MISSING-FR2"
check 5.2c "human freezes it → 0" 0 -- ht_human freeze "$FR2"
check 5.2d "human commits" 0 -- git_as "$HUMAN" add -A .agent
check 5.2e "human git commit → 0" 0 -- git_as "$HUMAN" commit -q -m "tracker: phase 5 targets"

# Attack 1: make the human run the agent's code through git.
check 5.3 "agent 'git config core.fsmonitor SCRIPT' fails" '!0' -- \
  as_agent git -C "$REPO" config core.fsmonitor "$EVIL/run.sh"
check 5.3a "agent cannot append to .git/config" '!0' -- \
  as_agent sh -c 'printf "[core]\n\tfsmonitor = %s\n" "$2" >> "$1"' sh "$REPO/.git/config" "$EVIL/run.sh"
check 5.3b "agent cannot rename .git/config away" '!0' -- as_agent mv "$REPO/.git/config" "$REPO/.git/config.old"
check 5.3c "agent cannot replace .git/hooks/pre-commit" '!0' -- \
  as_agent sh -c 'cp "$2" "$1.new" && mv -f "$1.new" "$1"' sh "$REPO/.git/hooks/pre-commit" "$EVIL/run.sh"
check 5.3i "agent cannot write into the installed .git/hooks/pre-commit" '!0' -- \
  as_agent sh -c 'test -f "$1" && printf "%s\n" "$2" >> "$1"' sh "$REPO/.git/hooks/pre-commit" "$EVIL/run.sh"
check 5.3d "agent cannot add .git/hooks/post-commit" '!0' -- as_agent cp "$EVIL/run.sh" "$REPO/.git/hooks/post-commit"
check 5.3e "agent cannot rename .git/hooks away" '!0' -- as_agent mv "$REPO/.git/hooks" "$REPO/.git/hooks.old"
check 5.3f "agent cannot point git elsewhere with .git/commondir" '!0' -- \
  as_agent sh -c 'printf "%s\n" "$2" > "$1"' sh "$REPO/.git/commondir" "$EVIL"
check 5.3g "agent cannot set core.hooksPath" '!0' -- as_agent git -C "$REPO" config core.hooksPath "$EVIL"
check 5.3h "agent cannot write .git/info/attributes" '!0' -- \
  as_agent sh -c 'echo "* filter=x" >> "$1"' sh "$REPO/.git/info/attributes"
check 5.4 "human htrac update (auto-sync on: runs git) → 0" 0 -- \
  as_human "$BIN" --tracker-root "$ROOT" --json update "$LCK" --priority 2
check 5.4a "human htrac validate → 0" 0 -- as_human "$BIN" --tracker-root "$ROOT" validate
must as_human sh -c 'echo human > "$1/human.txt"' sh "$REPO"
check 5.4b "human git add + commit (hooks run) → 0" 0 -- git_as "$HUMAN" add human.txt .agent
check 5.4c "human git commit → 0" 0 -- git_as "$HUMAN" commit -q -m "human work"
expect 5.4d "no code of the agent ran as the human (marker file empty)" "$(wc -c <"$MARK")" 0

# Attack 2: a fake tracker root that links to the real tiers.
FAKE=$EVIL/fake/.agent
must as_agent sh -c '
  set -e
  mkdir -p "$1/tracker" "$1/tracker-workspace"
  sed "s/\"\*_agent\"/\"nobody_matches_this\"/" "$2/tracker/config.yaml" > "$1/tracker/config.yaml"
  ln -s "$2/tracker/.ops" "$1/tracker/.ops"
  ln -s "$2/tracker-workspace/.ops" "$1/tracker-workspace/.ops"
  ln -s "$2/tracker-workspace/stealth" "$1/tracker-workspace/stealth"
' sh "$FAKE" "$ROOT"
ht_fake() { as_agent "$BIN" --tracker-root "$FAKE" --no-auto-sync --json "$@"; }
check 5.5 "agent 'unlock' through a fake root of symlinked tiers → 1, refused, nothing written" 1 \
  --err 'symbolic link' --same -- ht_fake unlock "$LCK" status
check 5.5a "agent 'update --status done' through the fake root → 1, nothing written" 1 --same -- \
  ht_fake update "$LCK" --status "done"
# The same with real directories holding hard links to the real op files.
LCK_FILE=$(ops_file tracker-workspace/.ops "$LCK")
must as_agent sh -c '
  set -e
  rm "$1/tracker/.ops" "$1/tracker-workspace/.ops" "$1/tracker-workspace/stealth"
  mkdir "$1/tracker/.ops" "$1/tracker-workspace/.ops" "$1/tracker-workspace/stealth"
  ln "$2" "$1/tracker-workspace/.ops/"
' sh "$FAKE" "$LCK_FILE"
check 5.5b "agent 'unlock' through a fake root with its own config and hard links → 1 (still an agent), nothing written" 1 \
  --err 'human' --same -- ht_fake unlock "$LCK" status
expect 5.5c "the lock target is still locked, no op by: human from the agent" \
  "$(json 'd["locked_fields"]' "$(show_json "$LCK")") $(grep -c "actor: $AGENT" "$LCK_FILE" | tr -d ' ')" '["status"] 0'

# Attack 5: lift the freeze by removing the sentinel.
SENT=$ROOT/tracker-workspace/.ops/.$FR2.frozen
FR2_FILE=$(ops_file tracker-workspace/.ops "$FR2")
check 5.6 "agent cannot remove the human's freeze sentinel" '!0' --same -- as_agent rm -f "$SENT"
check 5.6a "agent cannot rename the sentinel away" '!0' --same -- as_agent mv "$SENT" "$SENT.old"
check 5.6b "agent cannot write into the sentinel" '!0' --same -- as_agent sh -c ': > "$1"' sh "$SENT"
check 5.6c "agent cannot remove or rename the human's op file" '!0' --same -- as_agent mv "$FR2_FILE" "$FR2_FILE.old"
check 5.6d "agent update on the frozen item still refused → 1" 1 --err 'frozen' --same -- ht_agent update "$FR2" --priority 0
check 5.6e "agent promote of a human-owned item → 1, refused before anything is written" 1 \
  --err 'sticky' --same -- ht_agent promote "$LCK"

# The agent's day-to-day work still goes through.
check 5.7 "agent add → 0" 0 --out '"id"' -- ht_agent add --kind work_item --title "Agent after setup" --tag phase5
AG5=$(json 'd["id"]' "$OUT"); [[ $AG5 == WI-* ]] || AG5="WI-MISSING-AG5"
expect 5.7a "the tag catalog recorded the agent's tag (human-owned, updated in place)" \
  "$(grep -c 'phase5' "$ROOT/tracker/tag_catalog.yaml" 2>/dev/null || echo 0) $(stat -c %U "$ROOT/tracker/tag_catalog.yaml")" "1 $HUMAN"
check 5.7b "agent update of an unlocked field on the human's item → 0" 0 -- ht_agent update "$LCK" --priority 1
check 5.7c "agent discuss → 0" 0 -- ht_agent discuss "$AG5" "Agent after setup"
check 5.7d "agent promotes its own item → 0" 0 -- ht_agent promote "$AG5"
must as_agent sh -c 'echo agent > "$1/agent.txt"' sh "$REPO"
check 5.8 "agent git add → 0" 0 -- git_as "$AGENT" add agent.txt .agent
check 5.8a "agent git commit → 0 (after the human's commit: index in .git/shared)" 0 -- \
  git_as "$AGENT" commit -q -m "agent work after setup"
check 5.8b "human git commit after the agent's → 0" 0 -- git_as "$HUMAN" commit -q --allow-empty -m "human again"
check 5.8c "agent htrac sync to the local bare remote → 0" 0 -- \
  as_agent "$BIN" --tracker-root "$ROOT" --json sync
check 5.8d "agent git pull (fetch + merge of the sync commit) → 0" 0 -- \
  git_as "$AGENT" -c pull.rebase=false pull -q --no-edit origin dev
check 5.8f "agent git push to the local bare remote → 0" 0 -- git_as "$AGENT" push -q origin dev
check 5.8g "human git pull + push after the agent → 0" 0 -- \
  git_as "$HUMAN" -c pull.rebase=false pull -q --no-edit origin dev
check 5.8h "agent git pull after the human (files in .git/ now the human's) → 0" 0 -- \
  git_as "$AGENT" -c pull.rebase=false pull -q --no-edit origin dev
# Attacks 3 and 4: ops appended to the item's file by hand, past htrac.
# (A forged op under the *human's* name needs signing: see the signing phase.)
hand_op() { # KIND BY ACTOR NONCE BODY-LINES...: one op as the file holds it
  local kind=$1 by=$2 actor=$3 nonce=$4
  shift 4
  printf -- '- op: %s  # %s\n  at: '"'"'%s'"'"'  # %s\n  by: %s  # %s\n  actor: %s  # %s\n  clock: 99  # %s\n  nonce: %s  # %s\n' \
    "$kind" "$nonce" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$nonce" "$by" "$nonce" "$actor" "$nonce" "$nonce" "$nonce" "$nonce"
  for l in "$@"; do printf '  %s  # %s\n' "$l" "$nonce"; done
}
check 5.10 "agent appends 'update status: done' (a locked field) to the file by hand → 0" 0 -- \
  as_agent sh -c 'cat >> "$1"' sh "$LCK_FILE" < <(hand_op update agent "$AGENT" a3a3 'set:' '  status: done')
check 5.10a "agent appends a forged 'by: human' unlock under its own name → 0" 0 -- \
  as_agent sh -c 'cat >> "$1"' sh "$LCK_FILE" < <(hand_op unlock human "$AGENT" a4a4 'unlock: [status]')
LSHOW=$(show_json "$LCK")
expect 5.10b "the human's show: still locked, status unchanged, both ops rejected" \
  "$(json '[d["locked_fields"], d["status"], [r["nonce"] for r in d.get("rejected_ops", [])]]' "$LSHOW")" \
  '[["status"], "todo_hard", ["a3a3", "a4a4"]]'
check 5.10c "the agent's own htrac sees the same (ready/show agree for everyone)" 0 \
  --out '"status": "todo_hard"' -- ht_agent show "$LCK"
check 5.10d "agent git commit --no-verify of the hand-written ops → 0" 0 -- \
  git_as "$AGENT" commit -q --no-verify -m "sneak" -- "$LCK_FILE"
check 5.10e "human validate --check-locks --strict after the --no-verify commit → 1, names both" 1 \
  --out 'a3a3.*no effect' -- as_human "$BIN" --tracker-root "$ROOT" validate --check-locks --strict
check 5.10f "… and names the forged human claim" 1 \
  --out "a4a4.*claims 'by: human'" -- as_human "$BIN" --tracker-root "$ROOT" validate --check-locks --strict

# Diverging histories merged by each user in turn (another clone pushes in
# between): each merge writes ORIG_HEAD, MERGE_HEAD and the index, which the
# other user's last merge left behind in the sticky .git/.
OTHER=$WORK/other
must git -c safe.directory='*' clone -q -b dev "$REMOTE" "$OTHER"
n=0
for u in "$HUMAN" "$AGENT" "$HUMAN" "$AGENT"; do
  n=$((n + 1))
  must git -c safe.directory='*' -C "$OTHER" pull -q --no-rebase origin dev
  must sh -c 'echo "$2" > "$1/other-$2.txt"' sh "$OTHER" "$n"
  must git -c safe.directory='*' -C "$OTHER" add "other-$n.txt"
  must git -c safe.directory='*' -c user.name=other -c user.email=o@example.invalid -C "$OTHER" commit -q -m "other $n"
  must git -c safe.directory='*' -C "$OTHER" push -q origin dev
  must run_as "$u" sh -c 'echo "$2" > "$1/turn-$2.txt"' sh "$REPO" "$n"
  check "5.9.$n" "$u git add → 0" 0 -- git_as "$u" add "turn-$n.txt"
  check "5.9.${n}a" "$u git commit → 0" 0 -- git_as "$u" commit -q -m "turn $n"
  if [ "$u" = "$AGENT" ] && [ "$(stat -c %U "$REPO/.git/ORIG_HEAD" 2>/dev/null)" = "$HUMAN" ]; then
    # Known cost of the sticky .git/ (README): git replaces ORIG_HEAD by a
    # rename, which the sticky bit refuses the agent once the human's merge
    # wrote it. The human removes it (it is only an undo pointer).
    check "5.9.${n}x" "known cost: agent merge after the human's merge → fails on ORIG_HEAD" '!0' \
      --err 'ORIG_HEAD' -- git_as "$u" -c pull.rebase=false pull -q --no-edit origin dev
    check "5.9.${n}y" "the human removes .git/ORIG_HEAD → 0" 0 -- as_human rm -f "$REPO/.git/ORIG_HEAD"
  fi
  check "5.9.${n}b" "$u git pull of a diverged remote (a merge) → 0" 0 -- \
    git_as "$u" -c pull.rebase=false pull -q --no-edit origin dev
  check "5.9.${n}c" "$u git push → 0" 0 -- git_as "$u" push -q origin dev
done
expect 5.8e "marker still empty after all of it" "$(wc -c <"$MARK")" 0

# ---------------------------------------------------------------------------
# Phase 6: signed human authority (attack 4 under the human's own name). The
# human signs with an SSH key listed in an allowed_signers file the agent
# cannot write; a `by: human, actor: <the human>` op the agent appends has no
# valid signature and counts as the agent's.
# ---------------------------------------------------------------------------

phase 6 "signed human authority: a forged op under the human's name"
HKEY=$WORK/hkey
must install -d -m 700 -o "$HUMAN" "$HKEY"
must as_human ssh-keygen -q -t ed25519 -N '' -C "$HUMAN" -f "$HKEY/id"
SIGNERS=$WORK/allowed_signers
must sh -c 'printf "%s namespaces=\"htrac-op\" %s\n" "$1" "$(cat "$2")" > "$3" && chmod 644 "$3"' sh "$HUMAN" "$HKEY/id.pub" "$SIGNERS"
must as_human sh -c '
  set -e
  chmod u+w "$1"
  printf "authority:\n  signing: required\n  allowed_signers: %s\n  signing_key: %s\n" "$2" "$3" >> "$1"
  chmod 444 "$1"' sh "$ROOT/tracker/config.yaml" "$SIGNERS" "$HKEY/id"
check 6.1 "human htrac signing-cutover → 0 (trusts the human ops already there)" 0 -- \
  ht_human_text signing-cutover
check 6.2 "human adds an item → 0 (signed)" 0 --out '"id"' -- ht_human add --kind work_item --title "Signed by the human"
SG=$(json 'd["id"]' "$OUT"); [[ $SG == WI-* ]] || SG="WI-MISSING-SG"
SG_FILE=$(ops_file tracker-workspace/.ops "$SG")
check 6.2a "human locks its status → 0 (signed)" 0 -- ht_human lock "$SG" status
expect 6.2b "the human's ops carry signatures" "$(grep -c '^  sig: ' "$SG_FILE")" 2
check 6.3 "agent appends a forged unlock 'by: human, actor: $HUMAN' by hand → 0" 0 -- \
  as_agent sh -c 'cat >> "$1"' sh "$SG_FILE" < <(hand_op unlock human "$HUMAN" a6a6 'unlock: [status]')
check 6.3a "agent appends a forged 'status: deleted' under the human's name → 0" 0 -- \
  as_agent sh -c 'cat >> "$1"' sh "$SG_FILE" < <(hand_op update human "$HUMAN" a7a7 'set:' '  status: deleted')
SSHOW=$(show_json "$SG")
expect 6.3b "the human's show: still locked and not deleted; both forged ops rejected as unsigned" \
  "$(json '[d["locked_fields"], d["status"], [r["nonce"] for r in d.get("rejected_ops", [])], all("unsigned" in r["reason"] for r in d.get("rejected_ops", []))]' "$SSHOW")" \
  '[["status"], "todo_hard", ["a6a6", "a7a7"], true]'
check 6.3c "human validate --strict → 1, names the forged unlock" 1 \
  --out 'a6a6.*unsigned' -- as_human "$BIN" --tracker-root "$ROOT" validate --strict
check 6.4 "the agent's own update of an unlocked field still works → 0" 0 -- ht_agent update "$SG" --priority 3
check 6.4a "the human's signed unlock works → 0" 0 -- ht_human unlock "$SG" status
expect 6.4b "the human's show: unlocked, priority 3" \
  "$(json '[d["locked_fields"], d["priority"]]' "$(show_json "$SG")")" '[[], 3]'

# ---------------------------------------------------------------------------
# Claims: both users share the claim board in the git directory.
# ---------------------------------------------------------------------------

phase 7 "claims: the human's and the agent's sessions share one board"
claim_as() { # USER SESSION ARGS...: htrac claim/release as USER in session SESSION
  local user=$1 session=$2
  shift 2
  run_as "$user" env HTRAC_SESSION="$session" "$BIN" --tracker-root "$ROOT" --no-auto-sync --json "$@"
}
check 7.1 "human adds two items → 0" 0 -- ht_human add --kind work_item --title "Claim me first" --priority 0
C1=$(json 'd["id"]' "$OUT"); [[ $C1 == WI-* ]] || C1="WI-MISSING-C1"
check 7.1a "human adds a second → 0" 0 -- ht_human add --kind work_item --title "Claim me second" --priority 0
C2=$(json 'd["id"]' "$OUT"); [[ $C2 == WI-* ]] || C2="WI-MISSING-C2"
check 7.2 "human session h1 claims the first → 0 (the board file is the human's)" 0 \
  --out '"session": "h1"' -- claim_as "$HUMAN" h1 claim "$C1"
BOARD=$REPO/.git/htrac-claims.json
check 7.3 "agent session a1 claims the second → 0 (writes the human's board file)" 0 \
  --out '"session": "a1"' -- claim_as "$AGENT" a1 claim "$C2"
expect 7.3a "the board names both claims" \
  "$(json '[sorted(e["session"] for e in d["claims"].values())]' "$(cat "$BOARD")")" '[["a1", "h1"]]'
check 7.4 "agent a1 claims the human's item → 1, naming the holder" 1 \
  --out '"holder": \{"session": "h1"' -- claim_as "$AGENT" a1 claim "$C1"
check 7.5 "agent a1 breaks the human's claim → 1 (human only)" 1 \
  --err 'only a human' -- claim_as "$AGENT" a1 release "$C1" --break
check 7.6 "human breaks the agent's claim → 0" 0 -- claim_as "$HUMAN" h2 release "$C2" --break
expect 7.6a "the second item is todo_hard again, unclaimed" \
  "$(json '[d["status"], "claimed_by" in d["fields"]]' "$(show_json "$C2")")" '["todo_hard", false]'

# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------

say ""
say "== results"
printf '%-7s %-6s %-4s %s\n' phase check result name
total_pass=0 total_fail=0
declare -A P_PASS=() P_FAIL=()
for i in "${!R_ID[@]}"; do
  printf '%-7s %-6s %-6s %s\n' "${R_PHASE[$i]}" "${R_ID[$i]}" "${R_RESULT[$i]}" "${R_NAME[$i]}"
  ph=${R_PHASE[$i]}
  if [ "${R_RESULT[$i]}" = PASS ]; then
    total_pass=$((total_pass + 1)); P_PASS[$ph]=$((${P_PASS[$ph]:-0} + 1))
  else
    total_fail=$((total_fail + 1)); P_FAIL[$ph]=$((${P_FAIL[$ph]:-0} + 1))
  fi
done
say ""
PHASE_NAMES=("set-up (human)" "script 1 (agent)" "script 2 (human)" "script 3 (agent)" "script 4 (human)" "attacks after setup" "signed authority" "claims")
for ph in 0 1 2 3 4 5 6 7; do
  printf '  phase %s %-18s %3d passed, %3d failed\n' "$ph" "${PHASE_NAMES[$ph]}" "${P_PASS[$ph]:-0}" "${P_FAIL[$ph]:-0}"
done
say "  ($(($(date +%s) - START))s)"
if [ "$total_fail" -gt 0 ]; then
  say "failed checks:"
  for i in "${!R_ID[@]}"; do
    [ "${R_RESULT[$i]}" = FAIL ] && printf '  %-6s %s\n' "${R_ID[$i]}" "${R_NAME[$i]}"
  done
fi
say "permission playbook: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
