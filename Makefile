# walletwatch - GNU make, pkg-config over Debian 12 packages. No autotools.
#
#   make            build build/walletwatch (and libwalletwatch.a)
#   make demo       install what is missing, build, replay a bundled recording, show its alerts
#   make test       units, golden pcaps, corpus replay, fuzz-input replay; last line "N passed, N failed"
#   make asan       the same suite under ASan + UBSan (build-asan/)
#   make fuzz       libFuzzer binaries (clang) in build-fuzz/, one per tests/fuzz/fuzz_*.c
#                   (T="fuzz_h2 fuzz_tcp" builds only those)
#   make bench      throughput and memory (MB/s, packets/s, peak RSS), beside tshark
#   make install    PREFIX=/usr/local DESTDIR=

PKGS       = libpcap libnghttp2 libnghttp3 openssl libsecp256k1 libcjson zlib libbrotlidec libzstd libsodium yara hiredis
# ISA-L's igzip inflates gzip/deflate when libisal is installed; zlib does it otherwise.
ISAL      := $(shell pkg-config --exists libisal 2>/dev/null && echo libisal)
PKGS      += $(ISAL)
TEST_PKGS  = libbrotlienc
BUILD     ?= build
PREFIX    ?= /usr/local
CC        ?= cc
SHELL      = /bin/bash

WARN    = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wundef -Wvla
OPT    ?= -O2 -g
CFLAGS_BASE = -std=c11 -D_DEFAULT_SOURCE $(OPT) $(WARN) -MMD -MP -I. -I$(BUILD)/gen
ifneq ($(ISAL),)
CFLAGS_BASE += -DWW_HAVE_ISAL
endif
ifeq ($(WERROR),1)
CFLAGS_BASE += -Werror
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_LIBS  := $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)
ALL_CFLAGS  = $(CFLAGS_BASE) $(PKG_CFLAGS) $(CFLAGS_EXTRA) $(CFLAGS)
ALL_LDFLAGS = $(LDFLAGS_EXTRA) $(LDFLAGS)

SRC_DIRS  = util capture decode detect addrdb engine
LIB_SRCS  = $(wildcard $(addsuffix /*.c,$(SRC_DIRS)))
LIB_OBJS  = $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB       = $(BUILD)/libwalletwatch.a
BIN       = $(BUILD)/walletwatch
# the command line's own pieces (addrdb and decode subcommands): the binary only, not the library
CLI_SRCS  = walletwatch.c $(wildcard cli/*.c)
CLI_OBJS  = $(CLI_SRCS:%.c=$(BUILD)/%.o)
# the cli/ pieces are also linked into the fuzz targets (decode input detection, --expect)
FUZZ_CLI_SRCS = $(wildcard cli/*.c)
GEN       = $(BUILD)/gen/bundled_db.inc $(BUILD)/gen/registry.inc

TEST_SRCS  = $(wildcard tests/test_*.c)
TEST_BINS  = $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TOOL_SRCS  = $(wildcard tests/tools/*.c)
TOOL_BINS  = $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
FUZZ_SRCS  = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY = $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)

.PHONY: all deps demo test check asan fuzz bench install clean format golden record
.DEFAULT_GOAL := all

all: $(BIN)

deps:
	@bash tests/deps.sh

$(BUILD)/gen/bundled_db.inc: addrdb/bundled.csv tests/gen_bundled.sh
	@mkdir -p $(dir $@)
	bash tests/gen_bundled.sh $< > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/registry.inc: addrdb/registry.csv tests/gen_bundled.sh
	@mkdir -p $(dir $@)
	bash tests/gen_bundled.sh $< > $@.tmp && mv $@.tmp $@

$(BUILD)/addrdb/addrdb.o $(BUILD)/addrdb/registry.o: $(GEN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(CLI_OBJS) $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BUILD)/tests/t.o: tests/t.c tests/t.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(BUILD)/tests/t.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) -lm

$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) -lm

# Fuzz targets replayed under the normal compiler: onefile.c gives them a main().
$(BUILD)/fuzz-replay/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/onefile.o $(FUZZ_CLI_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

tests-build: $(BIN) $(TEST_BINS) $(TOOL_BINS) $(FUZZ_REPLAY)
.PHONY: tests-build

test check: deps
	@$(MAKE) --no-print-directory tests-build
	@bash tests/run.sh $(BUILD)

# Sanitizers: clang when it is installed (its UBSan reaches more than gcc's), gcc otherwise.
# -fno-sanitize-recover=all makes every ASan/UBSan report fatal, so it fails the suite.
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_CC  ?= $(shell command -v clang >/dev/null 2>&1 && echo clang || echo $(CC))
asan:
	@$(MAKE) --no-print-directory BUILD=build-asan CC=$(ASAN_CC) OPT="-O1 -g" \
	  CFLAGS_EXTRA="$(SAN_FLAGS)" LDFLAGS_EXTRA="-fsanitize=address,undefined" test

FUZZ_CC ?= clang
fuzz: deps
	@mkdir -p build-fuzz
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=$(FUZZ_CC) OPT="-O1 -g" \
	  CFLAGS_EXTRA="-fsanitize=fuzzer-no-link $(SAN_FLAGS)" $(addprefix build-fuzz/lib,walletwatch.a)
	@for f in $(if $(T),$(T:%=tests/fuzz/%.c),$(FUZZ_SRCS)); do n=$$(basename $$f .c); \
	  echo "  FUZZ build-fuzz/$$n"; \
	  $(FUZZ_CC) -std=c11 -D_DEFAULT_SOURCE -O1 -g -I. -Ibuild-fuzz/gen $(PKG_CFLAGS) \
	    -fsanitize=fuzzer $(SAN_FLAGS) $$f $(FUZZ_CLI_SRCS) build-fuzz/libwalletwatch.a $(PKG_LIBS) -lm -o build-fuzz/$$n || exit 1; \
	done
	@echo "run e.g.: build-fuzz/fuzz_http1 -max_total_time=60 tests/corpus/fuzz_http1"

bench: deps
	@$(MAKE) --no-print-directory all $(TOOL_BINS)
	@bash tests/bench.sh $(BUILD)
	@bash tests/bench_tls.sh $(BUILD)
	@$(BUILD)/tools/bench_quic 256

demo: deps
	@$(MAKE) --no-print-directory all
	@bash tests/demo.sh $(BUILD)

record:
	@bash pcaps/record/record.sh

golden: all
	@bash tests/golden.sh $(BUILD) --update

# The attacker DB is compiled into the binary (bundled_db.inc): nothing else to install for it.
STRIP ?= strip
install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/share/doc/walletwatch
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/walletwatch
	$(STRIP) $(DESTDIR)$(PREFIX)/bin/walletwatch
	install -m 0644 walletwatch.1 $(DESTDIR)$(PREFIX)/share/man/man1/walletwatch.1
	sed 's|/usr/local/bin/|$(PREFIX)/bin/|' contrib/walletwatch.service \
	  > $(DESTDIR)$(PREFIX)/lib/systemd/system/walletwatch.service
	install -m 0644 contrib/walletwatch.logrotate LICENSE README.md \
	  $(DESTDIR)$(PREFIX)/share/doc/walletwatch/

format:
	clang-format -i $(LIB_SRCS) $(CLI_SRCS) $(wildcard */*.h) $(TEST_SRCS) $(FUZZ_SRCS)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
