# Tintin_reporter's own build: libtintin.a and its unit tests (cmocka).
#
# The project's Makefile includes this file.  A copy of this folder builds
# and tests alone, wherever it is put, as long as the folder is named
# `tintin` (sources include "tintin/tintin.h"):
#
#   make -f tintin.mk           libtintin.a in ./build
#   make -f tintin.mk check     build and run the tests
#
# An including Makefile may set TINTIN_BUILD (where objects go),
# TINTIN_CC, TINTIN_FLAGS (compile) and TINTIN_LDFLAGS (link) first.

TINTIN_DIR	:= $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
TINTIN_BUILD	?= $(TINTIN_DIR)/build
TINTIN_CC	?= $(CC)
TINTIN_FLAGS	?= -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
		   -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
		   -Wpointer-arith -Wformat=2 -Wvla -MMD -MP
TINTIN_LDFLAGS	?=
TINTIN_LDLIBS	= -lz -lzstd

TINTIN_SRCS	= $(addprefix $(TINTIN_DIR)/, tintin.c tintin_sink.c \
		  tintin_time.c tintin_rotate.c tintin_archive.c \
		  tintin_syslog.c tintin_rfc5424.c)
TINTIN_OBJS	= $(TINTIN_SRCS:$(TINTIN_DIR)/%.c=$(TINTIN_BUILD)/%.o)
TINTIN_LIB	= $(TINTIN_BUILD)/libtintin.a
TINTIN_TESTS	= $(TINTIN_BUILD)/tests/test_tintin \
		  $(TINTIN_BUILD)/tests/test_rfc5424 \
		  $(TINTIN_BUILD)/tests/test_syslog \
		  $(TINTIN_BUILD)/tests/test_syslog_queue \
		  $(TINTIN_BUILD)/tests/test_syslog_backoff

.PHONY: tintin tintin-check tintin-check-includes

# The headers a user of the library gets (make install copies them); the
# tests include nothing else of the library, so they test what users see.
TINTIN_PUBLIC	= tintin.h

tintin: $(TINTIN_LIB)

$(TINTIN_LIB): $(TINTIN_OBJS)
	$(AR) rcs $@ $^

$(TINTIN_BUILD)/%.o: $(TINTIN_DIR)/%.c
	@mkdir -p $(dir $@)
	$(TINTIN_CC) -I$(TINTIN_DIR)/.. $(TINTIN_FLAGS) -c -o $@ $<

$(TINTIN_TESTS): $(TINTIN_BUILD)/tests/%: $(TINTIN_BUILD)/tests/%.o \
		$(TINTIN_LIB)
	$(TINTIN_CC) $(TINTIN_LDFLAGS) -o $@ $^ -lcmocka $(TINTIN_LDLIBS)

# The backoff test runs the library on its own clock: the library's calls
# to time() and connect() go to the test's __wrap_time and __wrap_connect.
$(TINTIN_BUILD)/tests/test_syslog_backoff: private TINTIN_LDFLAGS += \
		-Wl,--wrap=time,--wrap=connect

# Run every test program; the first that fails stops the run.
tintin-check: tintin-check-includes $(TINTIN_TESTS)
	@set -e; for t in $(TINTIN_TESTS); do echo "== $$t"; $$t; done

# Fails on a test file that includes a header of the library that is not
# public: system headers and cmocka (<...>), the public headers and the
# tests' own helpers ("tintin/tests/NAME.h") are the only ones allowed.
tintin-check-includes:
	@bad=$$(grep -nE '^[[:space:]]*#[[:space:]]*include' \
	    $(TINTIN_DIR)/tests/*.[ch] | grep -E '"|<tintin/' | \
	    grep -vE $(foreach h,$(TINTIN_PUBLIC),-e '[<"]tintin/$(subst 	    .,\.,$(h))[>"]') -e '"tintin/tests/[A-Za-z0-9_]+\.h"'); \
	if [ -n "$$bad" ]; then \
		echo "tintin tests may include only $(TINTIN_PUBLIC):"; \
		echo "$$bad"; exit 1; \
	fi

-include $(TINTIN_OBJS:.o=.d) $(TINTIN_TESTS:=.d)

# Alone (make -f tintin.mk): the library by default, `check` for the tests.
ifeq ($(notdir $(firstword $(MAKEFILE_LIST))),tintin.mk)
.DEFAULT_GOAL := tintin
.PHONY: check clean
check: tintin-check
clean:
	rm -rf $(TINTIN_BUILD)
endif
