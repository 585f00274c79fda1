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

# A human and an agent share a tracker in a throwaway git repo: a locked
# field refused, the human's message read before the agent goes on, the stop
# hook keeping it at work (tests/demo/cli.sh; tested by tests/cli/demo.rs).
demo: build
	@bash tests/demo/cli.sh target/release

# A backlog worth looking at (tests/demo/backlog.sh) in the terminal UI
# (q quits and deletes the repo).
demo-tui: build
	@bash tests/demo/tui.sh target/release

# The same backlog served at http://localhost:7380, with a web login whose
# random password it prints. Ctrl+C stops it and deletes the repo.
demo-web: build
	@bash tests/demo/web.sh target/release

# Side by side with the reference (200 and 10,000 items; 100,000 for htrac
# alone), warm and cold, each row with issue 23's target and the floor that
# bounds it (an empty process, one fsync, a stat or a read of every op file,
# measured in the same run); then the divan micro-benchmarks. About 20 minutes
# on 2 cores: 10 for the tables, the rest building and the micro-benchmarks.
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
