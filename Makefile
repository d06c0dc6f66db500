# hako: `make demo` and `make test` set everything up on a fresh machine.
SHELL := /bin/bash
# libcap2-bin: setcap, for the inheritable-capabilities security test.
# uidmap: newuidmap/newgidmap, which rootless containers with more than the
# caller's own id mapped need (the rootless tests use them too). strace:
# the launcher-death tests kill a process at an exact syscall with it.
# runc: the integration tests compare hako's refusals with runc's (and
# bench, conformance-compare run it beside hako), so it comes with the rest
# rather than later with the clients. jq: the README's examples edit a
# config.json with it.
APT_PACKAGES := build-essential python3 pkg-config libseccomp-dev busybox-static uidmap libcap2-bin strace runc jq
STAMP := .tmp/stamps
HAKO := $(CURDIR)/bin/hako

.PHONY: all setup deps build rootfs demo docs check test test-unit test-integration test-security test-clients clean test-v2 test-systemd test-criu

all: build

# apt packages, installed only when missing (apt-get update first: a fresh
# machine's lists may be empty). Checked again when the Makefile (so the
# list) changes.
$(STAMP)/apt: Makefile
	@mkdir -p $(STAMP)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

# Bun, which compiles bin/hako-engine: a manifest of its own (tools/bun),
# so that the library's package does not depend on it.
tools/bun/node_modules/.package-lock.json: tools/bun/package.json tools/bun/package-lock.json
	npm ci --prefix tools/bun --no-audit --no-fund --ignore-scripts
	@touch $@

deps: $(STAMP)/apt node_modules/.package-lock.json tools/bun/node_modules/.package-lock.json

setup: deps build

# The native parts (node-gyp: launcher + addon, about a minute) are rebuilt
# only when their sources change; the rest of `npm run build` always runs.
NATIVE_SRC := binding.gyp addon/plan.tags $(wildcard addon/launcher/*.c addon/launcher/*.h addon/binding/*.cc addon/binding/*.h)
NATIVE_STAMP := build/Release/.hako-native

$(NATIVE_STAMP): $(NATIVE_SRC) node_modules/.package-lock.json
	node scripts/gen-plan-tags.mjs
	npm run --silent native
	@touch $@

build: deps
	node scripts/gen-plan-tags.mjs
	@$(MAKE) --no-print-directory $(NATIVE_STAMP)
	node scripts/build-schemas.mjs
	npm run --silent tsc
	npm run --silent bundle
	@./scripts/mk-busybox-bundle.sh

rootfs: deps
	@./scripts/mk-busybox-bundle.sh

# The library's API reference, from the doc comments of what src/index.ts
# exports (TypeDoc, docs/api/typedoc.json), as HTML in out/docs/api/ (open
# index.html). test/unit/api-docs.test.ts checks that none is missing.
docs: deps
	node scripts/gen-plan-tags.mjs
	node scripts/build-schemas.mjs
	npx typedoc --options docs/api/typedoc.json

demo: build
	@echo "# hako run --bundle bundles/busybox (prints hostname, id and ps from inside the box)"
	@$(HAKO) run --bundle bundles/busybox hako-demo-$$$$

# Then the cgroup group in the pure cgroup v2 guest where the lane can run
# (skipped, with the reason, where it cannot), and the systemd cgroup
# driver's tests in guests booting systemd (v2, then hybrid): test-v2's and
# test-systemd's own steps, then checkpoint/restore with criu in the v2
# guest (test-criu's), without building again (scripts/test-all.sh).
test: build
	@./scripts/test-all.sh

# The unit tests of what is in the tree now (they run from out/, so the
# build comes first; it does nothing it need not).
test-unit: build
	npx uvu out/test/unit '.*\.test\.js$$'

# The quick check before a commit, and CI's first step: the formatter's
# check and the linter (Biome, biome.jsonc), the type check (the build's
# tsc) and the unit tests. `npx biome format --write .` formats.
check: build
	npx biome ci --colors=off .
	npx uvu out/test/unit '.*\.test\.js$$'

test-integration:
	npx uvu out/test/integration '.*\.test\.js$$'

# One test per class of runtime vulnerability (runc, crun and youki
# advisories), each with a control that shows the attack where the defence
# is absent; test/security/README.md lists them.
test-security:
	npx uvu out/test/security '.*\.test\.js$$'

# The real clients (podman + conmon, containerd's ctr, Docker) configured to
# use bin/hako; they are installed from Debian when missing. Daemons the tests
# start live in temporary directories and are stopped by pid. catatonit (only
# recommended by podman) is what podman builds a pod's infra image from.
# test/clients/docs.test.ts runs README.md and docs/*.md with these too.
# containernetworking-plugins: the CNI bridge the CRI test's Pods use.
CLIENT_PACKAGES := podman conmon catatonit containerd docker.io containernetworking-plugins
$(STAMP)/apt-clients:
	@mkdir -p $(STAMP)
	@missing=""; for p in $(CLIENT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@touch $@

test-clients: $(STAMP)/apt-clients
	npx uvu out/test/clients '.*\.test\.js$$'

# The cgroup test group as root in a pure cgroup v2 qemu guest (these hosts
# are hybrid); see scripts/vm/README.md. HAKO_VM=optional skips it, with the
# reason, where the guest cannot run.
test-v2: build
	@./scripts/vm/test-v2.sh

# The systemd cgroup driver (--systemd-cgroup) in qemu guests that boot
# systemd as PID 1 (these hosts run none): pure cgroup v2, then systemd's
# hybrid layout. See scripts/vm/README.md.
test-systemd: build
	@./scripts/vm/test-systemd.sh

# checkpoint/restore with criu, which cannot run on these hosts' kernel: in
# the cgroup v2 guest (Debian's 6.1 kernel). See scripts/vm/README.md.
test-criu: build
	@./scripts/vm/test-criu.sh

clean:
	rm -rf build out dist bin/hako bin/hako-engine .tmp bundles/*/rootfs

# Benchmarks and conformance (bench/README.md, conformance/README.md); run as root.
RUNTIMES ?= $(HAKO) /usr/sbin/runc
RUNTIME ?= $(HAKO)
.PHONY: bench bench-engines conformance conformance-compare

bench: build
	@[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time; }
	node out/bench/main.js --runtimes "$(RUNTIMES)" $(BENCH_ARGS)

# The engine decision, measured: bin/hako (the single Bun executable) beside
# the same bundle run as a script by Node and by Bun, and runc, in one run.
ENGINES := .tmp/engines
bench-engines: build
	@[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time; }
	@mkdir -p $(ENGINES)
	@printf '#!%s\nimport "%s/dist/hako.mjs";\n' "$$(readlink -f $$(command -v node))" "$(CURDIR)" > $(ENGINES)/hako-node
	@printf '#!%s\nimport "%s/dist/hako.mjs";\n' "$$(readlink -f tools/bun/node_modules/@oven/bun-linux-*/bin/bun)" "$(CURDIR)" > $(ENGINES)/hako-bun
	@chmod +x $(ENGINES)/hako-node $(ENGINES)/hako-bun
	node out/bench/main.js --runtimes "$(HAKO) $(CURDIR)/$(ENGINES)/hako-bun $(CURDIR)/$(ENGINES)/hako-node /usr/sbin/runc" --only engine,lifecycle,run,exec,rss $(BENCH_ARGS)

conformance: build
	@# exit 1 means checks failed (the last line says how many): no make error line after it
	@node out/conformance/main.js --runtime "$(RUNTIME)" $(CONFORMANCE_ARGS) || [ $$? -eq 1 ]

conformance-compare: build
	node out/conformance/compare.js $(if $(filter command line environment,$(origin RUNTIMES)),--runtimes "$(RUNTIMES)") $(CONFORMANCE_ARGS)
