# memsim — top-level build.
#
#   make deps     install what is missing from Debian's packages (no-op when all are there)
#   make          build build/memsim
#   make demo     deps + build + replay the bundled scenarios/traces through every model,
#                 store in demo/memsim.db, draw plots into demo/plots/
#   make check    deps + the whole test suite, then again under ASan+UBSan, the freestanding
#                 compile check of models/, and a short fuzzing run
#   make bench    benchmarks (tests/bench/), figures as side-by-side ratios
#   make fuzz     long fuzzing run of the trace reader (FUZZ_SECONDS=600)
#   make install  PREFIX=/usr/local (binary, man pages, bash completion, analysis, hw-validate,
#                 sample traces, docs)
#   make man      man pages from the --help texts (help2man) into build/man/
#   make help     this list
#
# Sources are found by wildcard: adding sim/foo.c, analysis/foo.c or tests/unit/test_foo.c needs
# no edit here.

PREFIX     ?= /usr/local
CC         ?= cc
BUILD      ?= build
ASAN_BUILD ?= build-asan

# Debian packages the project needs.  `make deps` installs the missing ones.
DEB_PKGS := build-essential pkg-config libsqlite3-dev sqlite3 libgsl-dev zlib1g-dev \
            libpfm4-dev gnuplot-nox qemu-system-x86 linux-headers-amd64 linux-image-amd64 \
            busybox-static parallel clang libclang-rt-14-dev llvm cpio xz-utils kmod \
            python3 bc help2man tidy slurm-wlm munge openssh-server openssh-client rsync \
            python3-pandas

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CSTD    := -std=gnu11
OPT     ?= -O2 -g
INCS    := -I. -Isim -Imodels -Itraces -Ianalysis
DEFS    := -DMEMSIM_VERSION=\"$(VERSION)\" -DMEMSIM_GIT_REV=\"$(GIT_REV)\" -D_GNU_SOURCE
CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) $(INCS) $(DEFS) $(CFLAGS)
LIBS    := -lsqlite3 -lgsl -lgslcblas -lz -lm -lpthread

MODEL_SRCS := $(sort $(wildcard models/*.c))
LIB_SRCS   := $(MODEL_SRCS) $(sort $(filter-out sim/main.c,$(wildcard sim/*.c))) \
              $(sort $(wildcard traces/*.c)) \
              $(sort $(wildcard analysis/*.c))
MAIN_SRC   := sim/main.c
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
HDRS       := $(wildcard sim/*.h models/*.h traces/*.h analysis/*.h tests/*.h)

# ---- normal build -----------------------------------------------------------------------
LIB_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

all: $(BUILD)/memsim $(BUILD)/hw-validate/memsim-user

# `make V=1` shows the full command lines.
Q := $(if $(V),,@)

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libmemsim.a: $(LIB_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/memsim: $(BUILD)/sim/main.o $(BUILD)/libmemsim.a
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libmemsim.a $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -Itests -o $@ $< $(BUILD)/libmemsim.a $(LIBS)

tests: $(UNIT_BINS) $(BUILD)/memsim

# ---- memsim-user: the kernel module's code as a program ----------------------------------
# hw-validate/kmod/msk_core.c and ops_*.c, and models/*.c, compiled unchanged against the
# shim headers of hw-validate/user/include (no kernel headers needed), with the userspace
# platform hw-validate/user/*.c and the harness's front end (-DMEMSIM_USER): same arguments
# and output as memsim-hw, measured natively (docs/validation.md, "--user").
USER_SRCS := $(MODEL_SRCS) hw-validate/kmod/msk_core.c \
             $(sort $(wildcard hw-validate/kmod/ops_*.c)) $(sort $(wildcard hw-validate/user/*.c)) \
             hw-validate/harness/memsim-hw.c
USER_OBJS := $(patsubst %.c,$(BUILD)/hw-validate/obj/%.o,$(USER_SRCS))
USER_HDRS := $(wildcard models/*.h hw-validate/kmod/*.h hw-validate/harness/*.h \
             hw-validate/user/include/linux/*.h)
USER_CFLAGS = $(CSTD) $(OPT) $(WARN) -D_GNU_SOURCE -DMEMSIM_USER -DPROG=\"memsim-user\" \
              -Ihw-validate/user/include -Ihw-validate/kmod -Ihw-validate/harness -Imodels $(CFLAGS)

$(BUILD)/hw-validate/obj/%.o: %.c $(USER_HDRS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $< (memsim-user)")
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(BUILD)/hw-validate/memsim-user: $(USER_OBJS)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $^ -lpfm -lm

# ---- sanitizer build (same sources, separate tree) ----------------------------------------
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

asan:
	$(MAKE) BUILD=$(ASAN_BUILD) OPT="$(SAN_FLAGS)" tests

# ---- freestanding compile check of models/ ----------------------------------------------
# Every models/*.c must compile with no libc headers at all and no floating point: this is
# the same object list the kernel module builds (hw-validate/kmod/Kbuild).
FREESTANDING_FLAGS := -std=gnu11 -ffreestanding -nostdinc -fno-builtin -mgeneral-regs-only \
                      -DMEMSIM_FREESTANDING -Imodels $(WARN) -O2

freestanding-check: $(MODEL_SRCS)
	@mkdir -p $(BUILD)/freestanding
	@set -e; for f in $(MODEL_SRCS); do \
	  $(CC) $(FREESTANDING_FLAGS) -c $$f -o $(BUILD)/freestanding/$$(basename $$f .c).o; \
	done
	@echo "freestanding-check: $(words $(MODEL_SRCS)) models/*.c compiled with -ffreestanding -nostdinc, no FP"

# ---- tests ---------------------------------------------------------------------------------
check: SHELL := /bin/bash
check: deps
	$(MAKE) all tests
	$(MAKE) freestanding-check
	tests/run-tests.sh $(BUILD)
	$(MAKE) asan
	MEMSIM_SANITIZED=1 tests/run-tests.sh $(ASAN_BUILD)
	$(MAKE) fuzz-smoke
	@if [ -f hw-validate/Makefile ]; then set -o pipefail; \
	  $(MAKE) -C hw-validate check 2>&1 | tee $(BUILD)/test-logs/hw-validate.log; fi
	@tests/check-summary.sh $(BUILD) $(ASAN_BUILD)

# ---- fuzzing (clang + libFuzzer) -----------------------------------------------------------
FUZZ_SECONDS ?= 600
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB_SRCS := $(filter-out sim/main.c,$(LIB_SRCS))

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined $(INCS) $(DEFS) -o $@ $< $(FUZZ_LIB_SRCS) $(LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz-smoke: fuzz-build
	@set -e; for b in $(FUZZ_BINS); do n=$$(basename $$b); \
	  mkdir -p $(BUILD)/fuzz/$$n.corpus; \
	  $$b -max_total_time=20 -print_final_stats=0 $(BUILD)/fuzz/$$n.corpus tests/fuzz/corpus/$$n >$(BUILD)/fuzz/$$n.log 2>&1 \
	    || { tail -40 $(BUILD)/fuzz/$$n.log; exit 1; }; \
	  echo "fuzz-smoke: $$n ran 20 s without a crash"; done

fuzz: fuzz-build
	@set -e; for b in $(FUZZ_BINS); do n=$$(basename $$b); \
	  $$b -max_total_time=$(FUZZ_SECONDS) tests/fuzz/corpus/$$n; done

# ---- man pages, help -------------------------------------------------------------------
man: $(BUILD)/memsim
	sim/completion/mkman.sh $(BUILD)/memsim $(BUILD)/man $(VERSION)

help:
	@sed -n 's/^#   make /make /p; s/^#                 /                 /p' Makefile

# ---- demo, bench, install ----------------------------------------------------------------
demo: deps all
	tests/demo.sh $(BUILD)/memsim demo

bench: deps all
	$(MAKE) -C tests/bench BUILD=$(abspath $(BUILD))
	tests/bench/replay.sh $(BUILD)/memsim
	tests/bench/sweep_speedup.sh $(BUILD)/memsim 2

install: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/memsim/analysis $(DESTDIR)$(PREFIX)/share/doc/memsim \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/memsim/hw-validate $(DESTDIR)$(PREFIX)/share/memsim/models \
	  $(DESTDIR)$(PREFIX)/share/memsim/samples
	install -m 0755 $(BUILD)/memsim $(DESTDIR)$(PREFIX)/bin/memsim
	install -m 0644 $(BUILD)/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 sim/completion/memsim.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/memsim
	@# analysis/: the SQL and gnuplot files plot and report read at run time (not the C)
	install -m 0644 analysis/*.sql analysis/*.gp $(DESTDIR)$(PREFIX)/share/memsim/analysis/
	install -m 0755 analysis/*.sh $(DESTDIR)$(PREFIX)/share/memsim/analysis/
	tar -C hw-validate --exclude=./build -cf - . | tar -C $(DESTDIR)$(PREFIX)/share/memsim/hw-validate -xf -
	cp models/*.c models/*.h $(DESTDIR)$(PREFIX)/share/memsim/models/
	cp traces/samples/. -r $(DESTDIR)$(PREFIX)/share/memsim/samples/
	install -d $(DESTDIR)$(PREFIX)/share/memsim/record
	cp -r traces/record/. $(DESTDIR)$(PREFIX)/share/memsim/record/
	cp -r docs/. README.md $(DESTDIR)$(PREFIX)/share/doc/memsim/

# ---- dependencies --------------------------------------------------------------------------
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "deps: need root to install:$$missing" >&2; exit 1; fi; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	else echo "deps: all Debian packages present"; fi
	@# sshd's privilege-separation directory, which its service unit would make at boot
	@# (tests/cli/slurm.sh starts an sshd of its own on loopback)
	@if [ "$$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then install -d -m 0755 /run/sshd; fi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) demo

.PHONY: all tests asan check freestanding-check fuzz fuzz-build fuzz-smoke demo bench install deps clean man help
