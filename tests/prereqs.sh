#!/usr/bin/env bash
# What the whole test suite needs, checked before anything is built.
#
#   tests/prereqs.sh            check; as root, install what is missing first
#   tests/prereqs.sh --check    check only, install nothing
#
# `make test` and `.ci/run` both call it. Every test group runs, or the suite
# does not start: nothing is skipped. Missing pieces are named one per line
# with the one command that installs each, and the exit status is 1.
#
# The suite needs:
#   root                 the two-user tests create OS users (useradd) and mount a tmpfs
#   git, make, python3   (with venv) the reference's virtualenv, the test repos
#   useradd, runuser     (Debian: passwd, util-linux) the two-user tests
#   dot                  (graphviz) `deps --graph` rendering checks
#   script               (bsdutils) the setup wizard's terminal prompt
#   tmux                 htrac-tui in a real terminal
#   ssh-keygen           (openssh-client) signed human authority: keys, signing, verify
#   chromium, node, npm  the web page in a real browser
#   tests/browser/node_modules   playwright-core (npm ci, no browser download)
#   target/ref-venv      hypergumbo-tracker 0.11.0 from PyPI, the reference
#   cc                   the linker rustc calls (nothing is compiled from C)
set -uo pipefail
cd "$(dirname "$0")/.."

install=yes
[ "${1:-}" = "--check" ] && install=no
is_root=no
[ "$(id -u)" -eq 0 ] && is_root=yes

REF_SPEC='hypergumbo-tracker==0.11.0'
REF_DIST='hypergumbo_tracker-0.11.0.dist-info'
TARGET=${CARGO_TARGET_DIR:-target}
VENV=$TARGET/ref-venv

# command → Debian package
apt_for() {
  case "$1" in
    useradd | groupadd | userdel) echo passwd ;;
    runuser | unshare | mount) echo util-linux ;;
    dot) echo graphviz ;;
    script) echo bsdutils ;;
    node) echo nodejs ;;
    cc) echo gcc ;;
    ssh-keygen) echo openssh-client ;;
    *) echo "$1" ;;
  esac
}

missing_apt() {
  local pkgs=()
  for cmd in git make python3 useradd groupadd runuser unshare mount dot script tmux ssh-keygen chromium node npm cc faketime; do
    command -v "$cmd" >/dev/null 2>&1 || pkgs+=("$(apt_for "$cmd")")
  done
  if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    pkgs+=(python3-venv)
  fi
  printf '%s\n' "${pkgs[@]}" | sort -u | grep -v '^$'
}

venv_complete() {
  [ -x "$VENV/bin/htrac" ] && compgen -G "$VENV/lib/*/site-packages/$REF_DIST" >/dev/null
}

browser_deps() {
  [ -f tests/browser/node_modules/playwright-core/package.json ]
}

# --- install what can be installed -------------------------------------------
if [ "$install" = yes ]; then
  mapfile -t pkgs < <(missing_apt)
  if [ "${#pkgs[@]}" -gt 0 ] && [ "$is_root" = yes ] && command -v apt-get >/dev/null 2>&1; then
    echo "prereqs: installing ${pkgs[*]}"
    apt-get update -q >/dev/null &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null
  fi
  if ! browser_deps && command -v npm >/dev/null 2>&1; then
    echo "prereqs: npm ci in tests/browser (playwright-core, no browser download)"
    (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  if ! venv_complete && command -v python3 >/dev/null 2>&1; then
    echo "prereqs: installing the reference ($REF_SPEC) into $VENV"
    mkdir -p "$TARGET"
    (
      flock 9
      if ! venv_complete; then
        rm -rf "$VENV"
        python3 -m venv "$VENV" &&
          PIP_NO_INPUT=1 "$VENV/bin/pip" install --quiet --disable-pip-version-check \
            --timeout 30 --retries 2 "$REF_SPEC" || rm -rf "$VENV"
      fi
    ) 9>"$TARGET/ref-venv.lock"
  fi
fi

# --- check -------------------------------------------------------------------
problems=()
if [ "$is_root" = no ]; then
  problems+=("root: the two-user tests create OS users and mount a tmpfs — run: sudo make test")
fi
mapfile -t pkgs < <(missing_apt)
if [ "${#pkgs[@]}" -gt 0 ]; then
  problems+=("Debian packages ${pkgs[*]} — run: sudo apt-get install ${pkgs[*]}")
fi
if [ "$is_root" = yes ]; then
  probe=$(mktemp -d)
  if mount -t tmpfs -o size=1m tmpfs "$probe" 2>/dev/null; then
    umount "$probe"
  else
    problems+=("mounting a tmpfs (the full-disk tests): root with CAP_SYS_ADMIN — run outside a restricted container")
  fi
  rmdir "$probe"
fi
browser_deps ||
  problems+=("playwright-core for the browser test — run: (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci)")
venv_complete ||
  problems+=("the reference $REF_SPEC in $VENV — run: python3 -m venv $VENV && $VENV/bin/pip install $REF_SPEC")

if [ "${#problems[@]}" -gt 0 ]; then
  echo "make test cannot run every test here; missing:" >&2
  for p in "${problems[@]}"; do echo "  - $p" >&2; done
  echo "(as root, 'make test' installs the packages, playwright-core and the reference itself)" >&2
  exit 1
fi
echo "prereqs: all present"
