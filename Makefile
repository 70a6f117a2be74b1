# vmtop: one GNU make file. `make` builds, `make check` installs what the
# tests need and runs them all, `make run` starts the dashboard.

PREFIX	?= /usr/local
DESTDIR	?=
BINDIR	 = $(PREFIX)/bin
LIBEXECDIR = $(PREFIX)/libexec/vmtop
MANDIR	 = $(PREFIX)/share/man

CC	?= cc
YACC	 = bison -y
PKGS	 = libevent ncursesw libedit zlib
VMM_PKGS = libevent libseccomp zlib

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(VMM_PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
VMM_LIBS   = $(shell pkg-config --libs $(VMM_PKGS))
CMOCKA_LIBS = $(shell pkg-config --libs cmocka)

CFLAGS	?= -O2 -g
CFLAGS	+= -std=gnu11 -Wall -Wextra -Werror -MMD -MP
CPPFLAGS += -D_GNU_SOURCE -Ilib -Iengine -Itui -Iconsole -Ivmm -Ivmm/disk -Ivmm/x86 -Ivmm/hw -Ivmm/virtio \
	    -DLIBEXECDIR='"$(LIBEXECDIR)"' $(PKG_CFLAGS)

LIB_SRCS    = $(wildcard lib/*.c)
ENGINE_SRCS = $(filter-out engine/parse.c, $(wildcard engine/*.c)) \
	      engine/parse.c
TUI_SRCS    = $(filter-out tui/vmtop.c, $(wildcard tui/*.c))
CONSOLE_SRCS = $(wildcard console/*.c)
VMM_SRCS    = $(filter-out vmm/vmtop-vm.c, $(wildcard vmm/*.c vmm/x86/*.c \
	      vmm/hw/*.c vmm/virtio/*.c))
DISK_SRCS   = $(wildcard vmm/disk/*.c)

LIB_OBJS    = $(LIB_SRCS:.c=.o)
ENGINE_OBJS = $(ENGINE_SRCS:.c=.o)
TUI_OBJS    = $(TUI_SRCS:.c=.o)
CONSOLE_OBJS = $(CONSOLE_SRCS:.c=.o)
VMM_OBJS    = $(VMM_SRCS:.c=.o)
DISK_OBJS   = $(DISK_SRCS:.c=.o)

UNIT_SRCS   = $(wildcard tests/unit/test_*.c)
UNIT_BINS   = $(UNIT_SRCS:.c=)
RUNNER_TEST = tests/runner/vmtop-test-runner
RAW_CLIENT  = tests/runner/vmtop-rawclient
FAKE_ENGINE = tests/runner/vmtop-fakeengine
DISK_TOOL   = tests/disk/vmtop-diskio
NET_TOOLS   = tests/net/vmtop-netpeer
TEST_TOOLS  = $(RUNNER_TEST) $(RAW_CLIENT) $(FAKE_ENGINE) $(DISK_TOOL) \
	      $(NET_TOOLS)
SLIRP_SRCS  = $(wildcard vmm/slirp/*.c)
SLIRP_OBJS  = $(SLIRP_SRCS:.c=.o)
SLIRP_LIBS  = $(shell pkg-config --libs slirp glib-2.0 libseccomp libevent)
BENCH_TOOLS = tests/bench/vmtop-bench

ALL_OBJS = $(LIB_OBJS) $(ENGINE_OBJS) $(TUI_OBJS) $(CONSOLE_OBJS) $(VMM_OBJS) $(DISK_OBJS) \
	   tui/vmtop.o vmm/vmtop-vm.o $(UNIT_SRCS:.c=.o) $(TEST_TOOLS:=.o) \
	   $(BENCH_TOOLS:=.o) $(SLIRP_OBJS)

# vmtop-vm, the KVM runner, joins `all` with its source (vmm/vmtop-vm.c).
VMM_MAIN = $(wildcard vmm/vmtop-vm.c)
all: vmtop $(if $(VMM_MAIN),vmtop-vm) vmtop-slirp

engine/parse.c: engine/parse.y
	$(YACC) -o $@ $<

# The assembler includes the keymaps; -MMD does not see them.
tui/keymaps.o: keymaps/default.keys keymaps/vi.keys keymaps/emacs.keys

libvmtop.a: $(LIB_OBJS) $(ENGINE_OBJS) $(TUI_OBJS) $(CONSOLE_OBJS) $(DISK_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

libvmm.a: $(LIB_OBJS) $(VMM_OBJS) $(DISK_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

vmtop: tui/vmtop.o libvmtop.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

vmtop-vm: vmm/vmtop-vm.o libvmm.a
	$(CC) $(LDFLAGS) -o $@ $^ $(VMM_LIBS)

vmtop-slirp: $(SLIRP_OBJS) libvmm.a
	$(CC) $(LDFLAGS) -o $@ $^ $(SLIRP_LIBS)

tests/unit/test_%: tests/unit/test_%.o libvmtop.a libvmm.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) $(VMM_LIBS)

tests/runner/%: tests/runner/%.o libvmtop.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The test runner speaks the protocol through the real runner's code.
$(RUNNER_TEST): $(RUNNER_TEST).o vmm/handoff.o libvmtop.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

tests/net/%: tests/net/%.o libvmtop.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

tests/disk/%: tests/disk/%.o libvmtop.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

tests/bench/%: tests/bench/%.o libvmtop.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

deps:
	@sh scripts/install-deps.sh build

check-deps:
	@sh scripts/install-deps.sh check

# The one test command: installs, builds warning-free, runs every suite.
check: check-deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS) $(TEST_TOOLS)
	@sh tests/run-all.sh

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
FUZZ_CC = clang -std=gnu11 -g -O1 -D_GNU_SOURCE -Ilib -Iengine -Itui -Iconsole -Ivmm -Ivmm/disk -Ivmm/x86 -Ivmm/hw -Ivmm/virtio \
	  -DLIBEXECDIR='"$(LIBEXECDIR)"' -fsanitize=fuzzer,address,undefined \
	  $(PKG_CFLAGS)

FUZZ_SRCS = $(LIB_SRCS) $(ENGINE_SRCS) $(TUI_SRCS) $(CONSOLE_SRCS) $(DISK_SRCS) $(VMM_SRCS)
tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRCS)
	$(FUZZ_CC) -o $@ $< $(FUZZ_SRCS) $(PKG_LIBS) $(VMM_LIBS)

fuzz: check-deps engine/parse.c $(FUZZ_TARGETS)
	@for f in $(FUZZ_TARGETS); do \
		echo "== $$f ($(FUZZ_SECONDS) s)"; \
		mkdir -p $$f.corpus; \
		$$f -max_total_time=$(FUZZ_SECONDS) $$f.corpus \
		    $$([ $$f = tests/fuzz/fuzz_config ] && echo tests/config) \
		    $$([ $$f = tests/fuzz/fuzz_qcow2 ] && echo tests/fuzz/qcow2-seeds) \
		    || exit 1; \
	done

bench: check-deps
	@$(MAKE) --no-print-directory all $(TEST_TOOLS) $(BENCH_TOOLS)
	@sh tests/bench/run.sh
	@sh tests/bench/disk.sh
	@sh tests/e2e/net.sh bench

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8
	install -m 755 vmtop $(DESTDIR)$(BINDIR)/vmtop
	[ ! -e vmtop-vm ] || install -m 755 vmtop-vm $(DESTDIR)$(LIBEXECDIR)/vmtop-vm
	install -m 755 vmtop-slirp $(DESTDIR)$(LIBEXECDIR)/vmtop-slirp
	for m in man/*.1; do [ -e "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man1/; done; true
	for m in man/*.5; do [ -e "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man5/; done; true
	for m in man/*.8; do [ -e "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man8/; done; true

clean:
	rm -f vmtop vmtop-vm vmtop-slirp libvmtop.a libvmm.a engine/parse.c \
	    $(ALL_OBJS) $(ALL_OBJS:.o=.d) $(UNIT_BINS) $(TEST_TOOLS) $(BENCH_TOOLS) \
	    $(FUZZ_TARGETS)

.PHONY: all deps check-deps check run fuzz bench install clean
.SECONDARY:

-include $(wildcard $(ALL_OBJS:.o=.d))
