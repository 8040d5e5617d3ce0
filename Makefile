# seinpost — one readable Makefile.
#   make deps | all | check [SAN=1] | demo | bench | fuzz | install | uninstall | clean
# Quiet by default; V=1 shows commands. Generated code lives in build/, never in git.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  := $(PREFIX)/bin
MANDIR  := $(PREFIX)/share/man
DOCDIR  := $(PREFIX)/share/doc/seinpost
UNITDIR ?= $(PREFIX)/lib/systemd/system

CC      ?= cc
SAN     ?= 0
BUILD   ?= build$(if $(filter 1,$(SAN)),-san,)

PKGS    := libsodium libzmq lmdb libprotobuf-c libsystemd inih jansson libcrypto
DEB_PKGS := build-essential pkg-config libsodium-dev libzmq3-dev liblmdb-dev \
            libprotobuf-c-dev protobuf-c-compiler libsystemd-dev libinih-dev \
            libjansson-dev check lmdb-utils libssl-dev python3 python3-jsonschema \
            mandoc prometheus \
            python3-zmq python3-nacl python3-lmdb jq
# systemd-analyze rates and verifies the unit (tests/e2e/test_ops_unit.sh)
DEB_PKGS += systemd
# a real browser renders the art. 15 report (tests/e2e/test_art15.sh)
DEB_PKGS += chromium

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter
CFLAGS  ?= -O2 -g
# What the build needs lives apart from the user's CFLAGS/LDFLAGS, so that
# 'make CFLAGS=...' on the command line changes optimisation, not the build.
SP_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude -I$(BUILD)/gen
ifeq ($(SAN),1)
SAN_CFLAGS  := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_LDFLAGS := -fsanitize=address,undefined
endif
# Hardening, on by default (as dpkg-buildflags gives a Debian build, which
# passes its own CPPFLAGS/CFLAGS/LDFLAGS through the environment):
# _FORTIFY_SOURCE (needs an optimising build, so not with -O0), stack
# protector, PIE, full RELRO. HARDEN=0 switches it off.
HARDEN  ?= 1
SP_OPT_CFLAGS := $(filter -O1 -O2 -O3 -Os -Og -Ofast -Oz,$(CFLAGS))
ifeq ($(HARDEN),1)
HARDEN_CPPFLAGS := $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),,$(if $(SP_OPT_CFLAGS)$(filter 1,$(SAN)),-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2,))
HARDEN_CFLAGS   := -fstack-protector-strong -fstack-clash-protection -fPIE
HARDEN_LDFLAGS  := -pie -Wl,-z,relro -Wl,-z,now
endif
ALL_CFLAGS  = $(SP_CFLAGS) $(HARDEN_CPPFLAGS) $(CPPFLAGS) $(HARDEN_CFLAGS) $(CFLAGS) $(SAN_CFLAGS)
ALL_LDFLAGS = $(HARDEN_LDFLAGS) $(LDFLAGS) $(SAN_LDFLAGS)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LIBS    = $(PKG_LIBS) -lpthread
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

ifeq ($(V),1)
Q :=
else
Q := @
endif

GEN_C   := $(BUILD)/gen/seinpost.pb-c.c
GEN_H   := $(BUILD)/gen/seinpost.pb-c.h
# daemon/ shows the processes: common/ (wire, store, transport, crypto, policy:
# code both processes run), broker/, node/, cli/ (the seinpost command).
MAINS   := daemon/seinpostd.c daemon/cli/seinpost.c
LIB_SRC := $(filter-out $(MAINS),$(wildcard daemon/*.c daemon/*/*.c))
LIB_OBJ := $(patsubst daemon/%.c,$(BUILD)/obj/%.o,$(LIB_SRC)) $(BUILD)/obj/seinpost.pb-c.o
LIB     := $(BUILD)/libseinpost.a
BINS    := $(BUILD)/seinpostd $(BUILD)/seinpost
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_BIN := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all deps check unit e2e fuzz-replay fuzz demo bench install uninstall clean
.DELETE_ON_ERROR:

all: deps-ok $(BINS)

# deps: install what is missing when root, otherwise say exactly what to run.
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all present"; \
	elif [ "$$(id -u)" = 0 ]; then echo "deps: installing $$missing"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "deps: missing packages; run as root:"; echo "  apt-get install $$missing"; exit 1; fi

# Cheap check used by build targets: only run 'deps' when a tool or library is missing.
.PHONY: deps-ok
deps-ok:
	@command -v protoc-c >/dev/null && command -v mandoc >/dev/null && command -v chromium >/dev/null && pkg-config --exists $(PKGS) check || $(MAKE) --no-print-directory deps

# One protoc-c run makes both files (grouped target); it waits for the
# dependency check, so that 'make -j2' on a bare machine installs first.
$(GEN_C) $(GEN_H) &: proto/seinpost.proto | deps-ok
	@mkdir -p $(BUILD)/gen
	@echo "  PROTOC  $<"
	$(Q)cd proto && protoc-c --c_out=../$(BUILD)/gen seinpost.proto

$(BUILD)/obj/seinpost.pb-c.o: $(GEN_C)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(filter-out $(WARN),$(ALL_CFLAGS)) -w $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: daemon/%.c $(GEN_H) $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/seinpostd: $(BUILD)/obj/seinpostd.o $(LIB)
	@echo "  LINK    $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(BUILD)/seinpost: $(BUILD)/obj/cli/seinpost.o $(LIB)
	@echo "  LINK    $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) tests/unit/sp_test.h
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -Itests/unit -o $@ $< $(LIB) $(ALL_LDFLAGS) $(LIBS) $(CHECK_LIBS)

$(BUILD)/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB) $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/bench/%: tests/bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB) $(ALL_LDFLAGS) $(LIBS)

# Fuzz harnesses: built with a small replay driver for 'make check', with
# libFuzzer (clang) for 'make fuzz'.
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $< tests/fuzz/replay.c $(LIB) $(ALL_LDFLAGS) $(LIBS)

# e2e tests two at a time; one at a time under the sanitizers (a slower
# broker, and the CI run has the time)
E2E_JOBS ?= $(if $(filter 1,$(SAN)),1,2)
check: all $(UNIT_BIN) $(FUZZ_BIN) $(TOOL_BIN)
	$(Q)BUILD=$(BUILD) E2E_JOBS=$(E2E_JOBS) tests/run-all.sh

unit: all $(UNIT_BIN)
	$(Q)BUILD=$(BUILD) tests/run-all.sh unit

e2e: all $(TOOL_BIN)
	$(Q)BUILD=$(BUILD) E2E_JOBS=$(E2E_JOBS) tests/run-all.sh e2e

fuzz-replay: $(FUZZ_BIN)
	$(Q)BUILD=$(BUILD) tests/run-all.sh fuzz

FUZZ_TIME ?= 60
fuzz: deps-ok $(GEN_H)
	$(Q)BUILD=$(BUILD) FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run-libfuzzer.sh

DEMO_DIR ?= ./demo
demo: all
	$(Q)BUILD=$(BUILD) DEMO_DIR=$(DEMO_DIR) deploy/demo.sh

bench: all $(TOOL_BIN) $(BENCH_BIN)
	$(Q)BUILD=$(BUILD) tests/bench/run.sh

# install: everything a package holds. PREFIX=/usr for a package;
# UNITDIR, SYSUSERSDIR, TMPFILESDIR follow systemd's search paths.
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
EXAMPLEDIR  := $(DOCDIR)/examples
DOC_FILES   := README.md docs/audit.md docs/decisions.md docs/delivery.md docs/hooks.md \
               docs/performance.md docs/policy-engine.md docs/spool.md \
               $(wildcard docs/operations.md docs/enrolment.md docs/threat-model.md)
EXAMPLES    := deploy/policy.example deploy/examples/broker.conf deploy/examples/node.conf
EXAMPLE_BIN := deploy/examples/zvh-referrals-to-csv deploy/examples/school-involve-class.py
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(EXAMPLEDIR) $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 0755 $(BUILD)/seinpostd $(BUILD)/seinpost $(DESTDIR)$(BINDIR)/
	install -m 0644 docs/seinpost.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/seinpost.conf.5 docs/seinpost-policy.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 docs/seinpostd.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(DOC_FILES) LICENSE $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(EXAMPLEDIR)/
	install -m 0755 $(EXAMPLE_BIN) $(DESTDIR)$(EXAMPLEDIR)/
	sed 's|/usr/local/bin|$(BINDIR)|' deploy/seinpostd@.service > $(DESTDIR)$(UNITDIR)/seinpostd@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/seinpostd@.service
	install -m 0644 deploy/seinpost.sysusers $(DESTDIR)$(SYSUSERSDIR)/seinpost.conf
	install -m 0644 deploy/seinpost.tmpfiles $(DESTDIR)$(TMPFILESDIR)/seinpost.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/seinpostd $(DESTDIR)$(BINDIR)/seinpost
	rm -f $(DESTDIR)$(MANDIR)/man1/seinpost.1 $(DESTDIR)$(MANDIR)/man5/seinpost.conf.5 \
	      $(DESTDIR)$(MANDIR)/man5/seinpost-policy.5 $(DESTDIR)$(MANDIR)/man8/seinpostd.8
	rm -f $(DESTDIR)$(UNITDIR)/seinpostd@.service
	rm -f $(DESTDIR)$(SYSUSERSDIR)/seinpost.conf $(DESTDIR)$(TMPFILESDIR)/seinpost.conf
	rm -rf $(DESTDIR)$(DOCDIR)

# package: the Debian package (debian/), built as dpkg-buildpackage -us -uc -b
# into ../ and copied to $(BUILD)/deb/. package-deps installs the tools.
PKG_DEB_PKGS := debhelper dpkg-dev lintian fakeroot systemd
.PHONY: package package-deps package-test
package-deps:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_PKGS) $(PKG_DEB_PKGS)"

package: package-deps
	$(Q)tests/package/build.sh $(BUILD)/deb

# Builds the package, installs it (dpkg -i as root, else into a scratch root)
# and starts a broker and a node from the installed files.
package-test: package
	$(Q)BUILD=$(BUILD) tests/package/test_package.sh $(BUILD)/deb

clean:
	rm -rf build build-san tests/bench/results.json

# Keep intermediate objects (main objects are intermediates of the pattern rule).
.SECONDARY:
