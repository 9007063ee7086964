# leakhound: vmlinux.h -> bpf/*.bpf.o -> skeletons -> addon (node-gyp) -> TypeScript.
# `make demo` and `make test`, run as root, work from a fresh Debian 12 machine.

OUTPUT      := .output
BPF_SRCS    := $(wildcard bpf/*.bpf.c)
BPF_OBJS    := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELETONS   := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
ADDON       := build/Release/leakhound.node
CLI         := dist/src/cli/main.js
CONTRACT    := src/native/contract.generated.ts
DEPS_STAMP  := node_modules/.deps-stamp
ARCH        := x86
DEBIAN_PKGS := clang llvm libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev \
               pkg-config libcapstone-dev make g++ python3 elfutils binutils valgrind \
               strace libclang-rt-14-dev libjemalloc2 libdebuginfod-dev debuginfod xz-utils \
               prometheus chromium golang-go bsdutils

.PHONY: all deps build test unit e2e demo bench fuzz mounts clean contract as-root
all: build

# Installing packages and loading BPF both need root: say how, in one line.
as-root:
	@[ "$$(id -u)" = 0 ] || { echo "leakhound: 'make $(or $(MAKECMDGOALS),all)' installs packages and loads BPF programs, which needs root: run it in a root shell, or as 'sudo make $(or $(MAKECMDGOALS),all)'" >&2; exit 1; }

# Debian packages and npm modules; re-run when the lock file changes.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): package-lock.json | as-root
	@missing=$$(for p in $(DEBIAN_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

$(OUTPUT):
	mkdir -p $@

# Generated from the running kernel's BTF, never committed.
$(OUTPUT)/vmlinux.h: | $(OUTPUT) $(DEPS_STAMP)
	@test -r /sys/kernel/btf/vmlinux || { echo "leakhound: this kernel has no BTF (/sys/kernel/btf/vmlinux): build a kernel with CONFIG_DEBUG_INFO_BTF=y" >&2; exit 1; }
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c bpf/*.h $(OUTPUT)/vmlinux.h
	clang -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) -Ibpf -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	bpftool gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

# What BPF and TypeScript share (record layout, enums, each object's programs,
# maps and knobs), generated from leakhound.h and the objects' BTF at every
# build, never committed: TypeScript cannot drift from BPF. The objects are
# kept for it (make would delete them as intermediates).
.SECONDARY: $(BPF_OBJS)
contract: $(CONTRACT)
$(CONTRACT): tools/gen-contract.mjs bpf/leakhound.h $(BPF_OBJS) $(SKELETONS) | $(DEPS_STAMP)
	node tools/gen-contract.mjs --out $@.tmp --include $(OUTPUT) --arch $(ARCH) $(BPF_OBJS) && mv $@.tmp $@

$(ADDON): $(SKELETONS) binding.gyp $(wildcard native/*.cc native/*.h) bpf/leakhound.h | $(DEPS_STAMP)
	npx node-gyp configure --silent && npx node-gyp build --silent

$(CLI): $(shell find src test bench examples -name '*.ts' 2>/dev/null) $(CONTRACT) tsconfig.json | $(DEPS_STAMP)
	npx tsc -p tsconfig.json
	chmod +x $(CLI)

fixtures: | $(DEPS_STAMP)
	$(MAKE) -C test/fixtures OUT=$(CURDIR)/$(OUTPUT)/fixtures

build: $(ADDON) $(CLI) fixtures

# tracefs and bpffs are needed by the kernel's probes; mount them if absent.
mounts:
	@mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
	@mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true

test: as-root build mounts
	node --test --test-concurrency=1 --test-reporter=spec $$(find dist/test -name '*.test.js' | sort)

demo: as-root build mounts
	$(MAKE) -C demo OUT=$(CURDIR)/$(OUTPUT)/demo
	rm -rf demo-out
	node $(CLI) trace --out demo-out --top 5 -- $(OUTPUT)/demo/leaky
	@echo "flame graph: demo-out/flamegraph.svg"

# The benchmarks' tools and workloads (Debian packages), their programs, then
# the suite itself (6-10 minutes here; BENCH_ARGS=--quick for a check); results in bench/RESULTS.md.
bench: as-root build mounts
	@missing=$$(for p in bpftrace heaptrack valgrind sqlite3 python3 perl gcc; do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages for the benchmarks:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	$(MAKE) -C bench OUT=$(CURDIR)/$(OUTPUT)/bench
	node dist/bench/run.js $(BENCH_ARGS)

fuzz: build
	$(MAKE) -C native/fuzz OUT=$(CURDIR)/$(OUTPUT)/fuzz run

clean:
	rm -rf $(OUTPUT) build dist demo-out $(CONTRACT)

# Other kernels, in QEMU VMs: Debian's kernels are fetched and unpacked into
# $(OUTPUT)/kernels (never installed as this machine's), with the host tools
# the VMs need (qemu-system-x86 busybox-static kmod xz-utils zstd); then the
# e2e files in test/vm/tests.txt run on each kernel (test/vm/README.md).
KERNELS_DIR := $(OUTPUT)/kernels

.PHONY: kernels test-kernels
kernels: $(KERNELS_DIR)/.stamp
$(KERNELS_DIR)/.stamp: test/vm/fetch-kernels.sh
	test/vm/fetch-kernels.sh $(KERNELS_DIR)
	touch $@

test-kernels: build kernels
	test/vm/test-kernels.sh
