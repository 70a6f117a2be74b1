# vmtop: one GNU make file. `make` builds, `make check` installs what the
# tests need and runs them all, `make run` starts the dashboard.

PREFIX	?= /usr/local
DESTDIR	?=
BINDIR	 = $(PREFIX)/bin
LIBEXECDIR = $(PREFIX)/libexec/vmtop
SHAREDIR = $(PREFIX)/share/vmtop
MANDIR	 = $(PREFIX)/share/man

CC	?= cc
YACC	 = bison -y
PKGS	 = libevent ncursesw libedit zlib libisofs-1 libcurl libcrypto
VMM_PKGS = libevent libseccomp zlib

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(VMM_PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
VMM_LIBS   = $(shell pkg-config --libs $(VMM_PKGS))
CMOCKA_LIBS = $(shell pkg-config --libs cmocka)

# SANITIZE: compiler and linker flags for a sanitizer build (make asan).
CFLAGS	?= -O2 -g
CFLAGS	+= -std=gnu11 -Wall -Wextra -Werror -MMD -MP $(SANITIZE)
LDFLAGS	+= $(SANITIZE)
CPPFLAGS += -D_GNU_SOURCE -DLIBEXECDIR='"$(LIBEXECDIR)"' \
	    -DSHAREDIR='"$(SHAREDIR)"' $(PKG_CFLAGS)

# Where objects and programs go: the tree itself, or under O (a folder
# that mirrors the tree's layout, as make asan's build/asan does).
O	?=
B	 = $(if $(O),$(O)/)

# Each folder sees lib/, itself, and the other folders it uses through
# their public headers; a folder's own headers it reaches by bare name.
LIB_INC     = -Ilib
DISK_INC    = $(LIB_INC) -Ivmm/disk
ENGINE_INC  = $(LIB_INC) -Iengine -Ivmm/disk
CONSOLE_INC = $(LIB_INC) $(addprefix -I,$(wildcard console))
TUI_INC     = $(CONSOLE_INC) -Itui -Ivmm/disk
VMM_INC     = $(LIB_INC) -Ivmm $(patsubst %/,-I%,$(wildcard vmm/*/))
SLIRP_INC   = $(LIB_INC) -Ivmm/slirp
ALL_INC     = $(sort $(TUI_INC) -Iengine $(VMM_INC))

$(B)lib/%.o:		INC = $(LIB_INC)
$(B)engine/%.o:		INC = $(ENGINE_INC)
$(B)console/%.o:	INC = $(CONSOLE_INC)
$(B)tui/%.o:		INC = $(TUI_INC)
$(B)vmm/%.o:		INC = $(VMM_INC)
$(B)vmm/disk/%.o:	INC = $(DISK_INC)
$(B)vmm/slirp/%.o:	INC = $(SLIRP_INC)
$(B)tests/%.o:		INC = $(ALL_INC)
$(B)tests/disk/%.o:	INC = $(DISK_INC)
# vmtop's main runs the engine for -D and -n.
$(B)tui/vmtop.o:	INC = $(TUI_INC) -Iengine

LIB_SRCS    = $(wildcard lib/*.c)
ENGINE_SRCS = $(filter-out engine/parse.c, $(wildcard engine/*.c)) \
	      engine/parse.c
CONSOLE_SRCS = $(wildcard console/*.c)
TUI_SRCS    = $(filter-out tui/vmtop.c, $(wildcard tui/*.c))
VMM_SRCS    = $(filter-out vmm/vmtop-vm.c, $(wildcard vmm/*.c vmm/x86/*.c \
	      vmm/hw/*.c vmm/virtio/*.c))
DISK_SRCS   = $(wildcard vmm/disk/*.c)
SLIRP_SRCS  = $(wildcard vmm/slirp/*.c)

objs = $(addprefix $(B),$(1:.c=.o))
LIB_OBJS    = $(call objs,$(LIB_SRCS))
ENGINE_OBJS = $(call objs,$(ENGINE_SRCS))
CONSOLE_OBJS = $(call objs,$(CONSOLE_SRCS))
TUI_OBJS    = $(call objs,$(TUI_SRCS))
VMM_OBJS    = $(call objs,$(VMM_SRCS))
DISK_OBJS   = $(call objs,$(DISK_SRCS))
SLIRP_OBJS  = $(call objs,$(SLIRP_SRCS))

# One archive per layer, each built once; programs list them users first.
LIBCOMMON   = $(B)libcommon.a
LIBDISK     = $(B)libdisk.a
LIBVMTOP    = $(B)libvmtop.a
LIBVMM      = $(B)libvmm.a
ARCHIVES    = $(LIBVMTOP) $(LIBVMM) $(LIBDISK) $(LIBCOMMON)

UNIT_SRCS   = $(wildcard tests/unit/test_*.c)
UNIT_BINS   = $(addprefix $(B),$(UNIT_SRCS:.c=))
RUNNER_TEST = $(B)tests/runner/vmtop-test-runner
RAW_CLIENT  = $(B)tests/runner/vmtop-rawclient
DISK_TOOL   = $(B)tests/disk/vmtop-diskio
FAKE_ENGINE = $(B)tests/runner/vmtop-fakeengine
SANDBOX_PROBE = $(B)tests/runner/vmtop-sandbox-probe
SLOW_FS     = $(B)tests/runner/vmtop-slowfs
NET_TOOLS   = $(B)tests/net/vmtop-netpeer
TEST_TOOLS  = $(RUNNER_TEST) $(RAW_CLIENT) $(FAKE_ENGINE) $(DISK_TOOL) \
	      $(NET_TOOLS) $(SANDBOX_PROBE) $(SLOW_FS)
SLIRP_LIBS  = $(shell pkg-config --libs slirp glib-2.0 libseccomp libevent)
BENCH_TOOLS = $(B)tests/bench/vmtop-bench
# The fuzzers make check runs (clang's, always in the tree itself).
FUZZ_ENGINE = tests/fuzz/fuzz_engine_conns
FUZZ_SUMS   = tests/fuzz/fuzz_sums

ALL_OBJS = $(LIB_OBJS) $(ENGINE_OBJS) $(CONSOLE_OBJS) $(TUI_OBJS) \
	   $(VMM_OBJS) $(DISK_OBJS) $(B)tui/vmtop.o $(B)vmm/vmtop-vm.o \
	   $(UNIT_BINS:=.o) $(TEST_TOOLS:=.o) $(BENCH_TOOLS:=.o) $(SLIRP_OBJS)

# vmtop-vm, the KVM runner, joins `all` with its source (vmm/vmtop-vm.c).
VMM_MAIN = $(wildcard vmm/vmtop-vm.c)
all: $(B)vmtop $(if $(VMM_MAIN),$(B)vmtop-vm) $(B)vmtop-slirp

# Everything the suites run.
check-build: all $(UNIT_BINS) $(TEST_TOOLS) $(if $(O),,$(FUZZ_ENGINE) $(FUZZ_SUMS))

engine/parse.c: engine/parse.y
	$(YACC) -o $@ $<

$(B)%.o: %.c
	@$(if $(O),mkdir -p $(@D))
	$(CC) $(CPPFLAGS) $(INC) $(CFLAGS) -c -o $@ $<

# The assembler includes the keymaps; -MMD does not see them.
$(B)tui/keymaps.o: keymaps/default.keys keymaps/vi.keys keymaps/emacs.keys

$(LIBCOMMON): $(LIB_OBJS)
$(LIBDISK): $(DISK_OBJS)
$(LIBVMTOP): $(ENGINE_OBJS) $(CONSOLE_OBJS) $(TUI_OBJS)
$(LIBVMM): $(VMM_OBJS)
$(ARCHIVES):
	rm -f $@
	$(AR) rcs $@ $^

$(B)vmtop: $(B)tui/vmtop.o $(LIBVMTOP) $(LIBDISK) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)vmtop-vm: $(B)vmm/vmtop-vm.o $(LIBVMM) $(LIBDISK) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(VMM_LIBS)

$(B)vmtop-slirp: $(SLIRP_OBJS) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(SLIRP_LIBS)

$(UNIT_BINS): %: %.o $(ARCHIVES)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) $(VMM_LIBS)

$(TEST_TOOLS) $(BENCH_TOOLS): %: %.o $(ARCHIVES)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(VMM_LIBS)

deps:
	@sh scripts/install-deps.sh build

# Installs what is missing, then fails at once, naming the package, if a
# command the suites run is still not on PATH.
check-deps:
	@sh scripts/install-deps.sh check
	@sh scripts/check-commands.sh

# The one test command: installs, builds warning-free, runs every suite.
check: check-deps
	@$(MAKE) --no-print-directory check-build
	@sh tests/run-all.sh

# The suites that need no guest, against programs built with ASan and
# UBSan (a report fails the test) under build/asan, apart from the
# normal build.
ASAN_O	 = build/asan
ASAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	     -fno-omit-frame-pointer
asan: check-deps
	@$(MAKE) --no-print-directory O=$(ASAN_O) SANITIZE='$(ASAN_FLAGS)' \
	    check-build
	@TOP=$(CURDIR)/$(ASAN_O) sh tests/run-all.sh unit config engine tui \
	    disk net

# The demo VM boots under /dev/kvm when it can; where it cannot (no
# /dev/kvm, or one that cannot boot Debian's kernel) the dashboard runs
# inside the nested-KVM test host.
run: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/prepare-demo.sh
	@if [ "$$(sh tests/e2e/kvm-probe.sh build/demo)" = direct ]; then \
	    ./vmtop; else \
	    echo "vmtop: /dev/kvm here cannot boot the demo VM: running the dashboard in a nested-KVM host (tests/vmhost)"; \
	    sh tests/vmhost/run.sh -i ./vmtop; fi

FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,tests/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
FUZZ_CC = clang -std=gnu11 -g -O1 -D_GNU_SOURCE $(ALL_INC) \
	  -DLIBEXECDIR='"$(LIBEXECDIR)"' -DSHAREDIR='"$(SHAREDIR)"' \
	  -fsanitize=fuzzer,address,undefined \
	  $(PKG_CFLAGS)

FUZZ_SRCS = $(LIB_SRCS) $(ENGINE_SRCS) $(CONSOLE_SRCS) $(TUI_SRCS) \
	    $(DISK_SRCS) $(VMM_SRCS)
tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRCS)
	$(FUZZ_CC) -o $@ $< $(FUZZ_SRCS) $(PKG_LIBS) $(VMM_LIBS)

# The checksum-file fuzzer needs only its parsers: quick to build.
SUMS_FUZZ_SRCS = tui/sums.c tui/catalog.c tui/format.c lib/paths.c lib/size.c \
	    lib/xmalloc.c lib/log.c
$(FUZZ_SUMS): tests/fuzz/fuzz_sums.c $(SUMS_FUZZ_SRCS)
	$(FUZZ_CC) -o $@ $< $(SUMS_FUZZ_SRCS) $(PKG_LIBS)

# The multi-connection protocol fuzzer for FUZZ_RUNS inputs (make check
# runs it for 20000).
FUZZ_RUNS ?= 1000000
fuzz-engine: check-deps engine/parse.c $(FUZZ_ENGINE)
	@sh tests/fuzz/run.sh $(FUZZ_RUNS)

fuzz: check-deps engine/parse.c $(FUZZ_TARGETS)
	@for f in $(FUZZ_TARGETS); do \
		echo "== $$f ($(FUZZ_SECONDS) s)"; \
		mkdir -p $$f.corpus; \
		$$f -max_total_time=$(FUZZ_SECONDS) $$f.corpus \
		    $$([ $$f = tests/fuzz/fuzz_config ] && echo tests/config) \
		    $$([ $$f = tests/fuzz/fuzz_qcow2 ] && echo tests/fuzz/qcow2-seeds) \
		    $$([ $$f = tests/fuzz/fuzz_scsi ] && echo tests/fuzz/scsi-seeds) \
		    $$([ $$f = $(FUZZ_ENGINE) ] && echo tests/fuzz/engine-conns-seeds) \
		    $$([ $$f = $(FUZZ_SUMS) ] && echo tests/fuzz/sums-seeds) \
		    || exit 1; \
	done

bench: check-deps
	@$(MAKE) --no-print-directory all $(TEST_TOOLS) $(BENCH_TOOLS)
	@sh tests/bench/run.sh
	@sh tests/bench/engine.sh
	@sh tests/bench/adopt.sh
	@sh tests/bench/disk.sh
	@sh tests/e2e/net.sh bench
	@sh tests/bench/firmware.sh

# The Debian firmware boots of tests/e2e/firmware.sh (three full systemd
# boots at once and a 64-vcpu guest in the nested host: too slow for
# check on these machines); not part of check.
check-firmware: check-deps
	@$(MAKE) --no-print-directory check-build
	@sh tests/e2e/firmware.sh

# Boots a 2-vcpu guest SOAK_BOOTS (200) times, in direct and in firmware
# boot, and counts the resets nobody asked for; not part of check.
soak: check-deps
	@$(MAKE) --no-print-directory all
	@sh tests/soak/run.sh

# The systemd unit (dist/vmtop.service.in) goes here, with BINDIR put in.
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(SHAREDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' dist/vmtop.service.in >vmtop.service.tmp
	install -m 644 vmtop.service.tmp $(DESTDIR)$(SYSTEMDDIR)/vmtop.service
	rm -f vmtop.service.tmp
	install -m 755 vmtop $(DESTDIR)$(BINDIR)/vmtop
	[ ! -e vmtop-vm ] || install -m 755 vmtop-vm $(DESTDIR)$(LIBEXECDIR)/vmtop-vm
	install -m 755 vmtop-slirp $(DESTDIR)$(LIBEXECDIR)/vmtop-slirp
	install -m 644 share/images.catalog $(DESTDIR)$(SHAREDIR)/images.catalog
	for m in man/*.1; do [ -e "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man1/; done; true
	for m in man/*.5; do [ -e "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man5/; done; true
	for m in man/*.8; do [ -e "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man8/; done; true

clean:
	rm -f vmtop vmtop-vm vmtop-slirp $(ARCHIVES) engine/parse.c \
	    $(ALL_OBJS) $(ALL_OBJS:.o=.d) $(UNIT_BINS) $(TEST_TOOLS) \
	    $(BENCH_TOOLS) $(FUZZ_TARGETS)
	rm -rf $(ASAN_O)

.PHONY: all check-build deps check-deps check check-firmware asan run fuzz fuzz-engine bench soak \
	install \
	clean
.SECONDARY:

-include $(wildcard $(ALL_OBJS:.o=.d))
