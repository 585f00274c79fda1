# htrac — developer entry points. `make test` is what CI runs.

CARGO ?= cargo
HTRAC := target/release/htrac
FUZZ_SECONDS ?= 60

.PHONY: build test prereqs test-permission test-browser demo demo-tui demo-web bench fuzz lint install clean

build:
	$(CARGO) build --release --locked --features tui,serve

# The whole suite (tests/run.sh): prerequisites checked (as root, installed)
# before anything is built, every test binary run to the end, the two-user
# playbook, and one closing line `N passed, N failed` that never counts a
# skipped or crashed group as passed.
test:
	CARGO="$(CARGO)" bash tests/run.sh

# What `make test` needs, installed when run as root (tests/prereqs.sh).
prereqs:
	bash tests/prereqs.sh

# The two-user permission playbook (cli.md section 8): creates OS users, so it
# needs root; without root it prints SKIPPED (and fails when CI=true).
test-permission:
	bash tests/permission/run.sh

# The web page in headless chromium (needs chromium, node, and `npm ci` in
# tests/browser; .ci/run installs them). `make test` runs it too.
test-browser:
	$(CARGO) test --locked --features serve --test serve browser:: -- --nocapture

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets --all-features -- -D warnings

install:
	$(CARGO) install --path . --locked --features tui,serve
	@# Shell completions, where each shell looks for a user's own.
	@bin="$${CARGO_HOME:-$$HOME/.cargo}/bin/htrac"; [ -x "$$bin" ] || bin=$$(command -v htrac); \
	data=$${XDG_DATA_HOME:-$$HOME/.local/share}; \
	mkdir -p "$$data/bash-completion/completions" "$$HOME/.config/fish/completions" "$$data/zsh/site-functions"; \
	"$$bin" completions bash > "$$data/bash-completion/completions/htrac"; \
	"$$bin" completions fish > "$$HOME/.config/fish/completions/htrac.fish"; \
	"$$bin" completions zsh > "$$data/zsh/site-functions/_htrac"; \
	echo "completions installed for bash, fish and zsh (zsh: add $$data/zsh/site-functions to fpath)"

# A short scripted agent session in a throwaway git repo: what an agent sees.
demo: build
	@set -e; \
	demo=$$(mktemp -d); trap 'rm -rf "$$demo"' EXIT; \
	export HTRAC_CACHE_DIR="$$demo/.cache"; \
	H="$(CURDIR)/$(HTRAC)"; cd "$$demo"; \
	git init -q -b dev; git -c user.email=demo@example.com -c user.name=demo commit -q --allow-empty -m root; \
	step() { printf '\n$$ htrac'; for a in "$$@"; do case "$$a" in *[\ \;\#]*) printf ' "%s"' "$$a";; *) printf ' %s' "$$a";; esac; done; echo; "$$H" "$$@"; }; \
	step init; \
	echo "(demo: from here on every OS user counts as an agent: actor_resolution.agent_usernames = [\"*\"])"; \
	chmod u+w .agent/tracker/config.yaml; sed -i 's/"\*_agent"/"*"/' .agent/tracker/config.yaml; chmod 444 .agent/tracker/config.yaml; \
	step add --kind work_item --title "Parse the config file" --priority 1 --tag core; \
	step add --kind work_item --title "Write the README" --priority 3; \
	step add --kind invariant --title "Every op line ends with its nonce" --field statement="each line carries # nonce" --field root_cause="union merges must not mix lines"; \
	step ready; \
	step update :1 --status in_progress --note "Starting on the parser"; \
	step discuss :1 "Parser done; tests pass"; \
	step update :1 --status done; \
	step --json ready --limit 1; \
	step show :1; \
	step list; \
	step count-todos; \
	export HTRAC_STATE_DIR="$$demo/.state"; \
	printf '\n$$ echo %s | htrac-hook stop\n' "'{\"hook_event_name\": \"Stop\"}'"; \
	echo '{"hook_event_name": "Stop"}' | "$(CURDIR)/target/release/htrac-hook" stop; echo; \
	echo; echo "(demo: the human's view of this repo is the terminal UI: $(CURDIR)/target/release/htrac-tui --tracker-root $$demo/.agent"; \
	echo " or 'htrac tui' inside it. This demo repo is deleted now; run 'make demo-tui' to open the TUI on a fresh one.)"

# The demo repo, kept open in the terminal UI (q quits and deletes it).
demo-tui: build
	@set -e; \
	demo=$$(mktemp -d); trap 'rm -rf "$$demo"' EXIT; \
	export HTRAC_CACHE_DIR="$$demo/.cache" XDG_CONFIG_HOME="$$demo/.config"; \
	H="$(CURDIR)/$(HTRAC)"; cd "$$demo"; \
	git init -q -b dev; git -c user.email=demo@example.com -c user.name=demo commit -q --allow-empty -m root; \
	"$$H" init >/dev/null; \
	a=$$("$$H" add --kind work_item --title "Parse the config file" --priority 1 --tag core); \
	"$$H" add --kind work_item --title "Write the README" --priority 3 --isbefore "$$a" >/dev/null; \
	"$$H" add --kind work_item --title "Handle YAML anchors" --parent "$$a" >/dev/null; \
	"$$H" add --kind invariant --title "Every op line ends with its nonce" --field statement="each line carries # nonce" --field root_cause="union merges must not mix lines" >/dev/null; \
	"$$H" discuss "$$a" "Parser started: should anchors be rejected?" >/dev/null; \
	"$(CURDIR)/target/release/htrac-tui" --tracker-root "$$demo/.agent"

# A throwaway repo with a few items, served at http://localhost:7380
# (user demo, password demo). Ctrl+C stops it and deletes the repo.
demo-web: build
	@set -e; \
	demo=$$(mktemp -d); trap 'rm -rf "$$demo"' EXIT; \
	export HTRAC_CACHE_DIR="$$demo/.cache"; \
	H="$(CURDIR)/$(HTRAC)"; cd "$$demo"; \
	git init -q -b dev; git -c user.email=demo@example.com -c user.name=demo commit -q --allow-empty -m root; \
	"$$H" init >/dev/null; \
	"$$H" add --kind work_item --title "Parse the config file" --priority 1 >/dev/null; \
	"$$H" add --kind work_item --title "Write the README" --priority 3 >/dev/null; \
	echo demo | "$(CURDIR)/target/release/htrac-serve" passwd --user demo; \
	"$(CURDIR)/target/release/htrac-serve"

# Side by side with the reference (200 and 10,000 items; 100,000 for htrac
# alone), warm and cold, then the divan micro-benchmarks. About 10 minutes.
BENCH_SIZES ?= 200,10000,100000
bench: build
	python3 benches/compare.py --sizes $(BENCH_SIZES) --runs 5 --htrac $(HTRAC)
	$(CARGO) bench --locked --bench core
	$(CARGO) bench --locked --features serve --bench serve_ws
	$(CARGO) bench --locked --features serve --bench serve_slow

fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)

clean:
	$(CARGO) clean
