# Git's own ref tests, run by Git built on this library (issue 18).
#
#   make git-suite            unpack Git into build/git-suite/git, build it
#                             with contrib/git-compat and our library in
#                             place of Git's reftable/*.o, run the scripts
#   make git-suite STOCK=1    the same scripts on Git as it ships
#                             (build/git-suite/stock), for comparison
#   make git-suite T='t0610-reftable-basics.sh'   only these scripts
#   make git-suite SAN=1 B=build-san OPT=-O1
#                             Git built with SANITIZE=address,undefined,leak
#                             (build/git-suite/git-san) on our library's
#                             sanitizer objects: Git's test-lib then fails a
#                             test that leaks or touches freed memory
#
# GIT_SRC_TARBALL is Git's source (default ../shared/git-src/git-2.55.tar.xz
# beside the checkout). It is a build input only: nothing of it is kept in
# the repository. The Git tree is unpacked and built once and reused; our
# side is relinked when the library or the layer changes.

GIT_SRC_TARBALL ?= $(CURDIR)/../shared/git-src/git-2.55.tar.xz
GS_DIR = build/git-suite
GS_VARIANT = $(if $(filter 1,$(STOCK)),stock,git$(if $(filter 1,$(SAN)),-san))
GS_OBJ = $(GS_DIR)/obj$(if $(filter 1,$(SAN)),-san)
GS_TREE = $(GS_DIR)/$(GS_VARIANT)
GIT_COMPAT_OBJ = $(CURDIR)/$(GS_OBJ)/git-compat.o
GS_GIT_FLAGS = NO_RUST=1 NO_CURL=1 NO_OPENSSL=1 NO_GETTEXT=1 NO_TCLTK=1 \
	NO_PYTHON=1 NO_EXPAT=1 CLAR_TEST_PROG= UNIT_TEST_PROGS= \
	FUZZ_OBJS= V=$(V) \
	$(if $(filter 1,$(SAN)),SANITIZE=$(GS_SANITIZE))
GS_SANITIZE = address,undefined,leak
GS_JOBS ?= 2

GS_COMPAT_SRCS = $(sort $(filter-out contrib/git-compat/dump-reftable.c, \
	$(wildcard contrib/git-compat/*.c)))
GS_COMPAT_OBJS = $(GS_COMPAT_SRCS:contrib/git-compat/%.c=$(GS_OBJ)/%.o)
# Our side of the link: the library, the test-tool command, and the block
# walker of `reftable dump --blocks` that the command prints from.
GS_CLI_OBJS = $(addprefix $(B)/cli/,blocks-file.o blocks-walk.o \
	blocks-records.o blocks-check.o blocks.o util.o)
GS_LOWER_OBJS = $(LIB_OBJS) $(GS_OBJ)/dump-reftable.o $(GS_CLI_OBJS)

.PHONY: git-suite git-suite-build

git-suite: git-suite-build
	sh contrib/git-compat/run-suite.sh $(CURDIR)/$(GS_TREE) $(T)

ifeq ($(STOCK),1)
git-suite-build: $(GS_TREE)/.unpacked
	$(MAKE) -C $(GS_TREE) -j$(GS_JOBS) $(GS_GIT_FLAGS) all
else
git-suite-build: $(GS_TREE)/.unpacked $(GS_OBJ)/git-compat.o
	$(MAKE) -C $(GS_TREE) -j$(GS_JOBS) -f Makefile \
		-f $(CURDIR)/contrib/git-compat/git-build.mk \
		GIT_COMPAT_OBJ=$(GIT_COMPAT_OBJ) $(GS_GIT_FLAGS) all
endif

$(GS_DIR)/%/.unpacked:
	@test -f "$(GIT_SRC_TARBALL)" || \
		{ echo "git-suite: no $(GIT_SRC_TARBALL)"; exit 1; }
	rm -rf $(GS_DIR)/$* && mkdir -p $(GS_DIR)/$*
	tar xf "$(GIT_SRC_TARBALL)" -C $(GS_DIR)/$* --strip-components=1
	touch $@

# Our names prefixed with lrt_, for the layer's translation units.
$(GS_OBJ)/ours.h: contrib/git-compat/gen-ours-h.sh $(PUBLIC_HEADERS)
	@mkdir -p $(dir $@)
	sh $< reftable > $@.tmp && mv $@.tmp $@

# The layer: Git's public reftable headers from the unpacked tree, ours
# through ours.h. Git's headers want Git's portability header, hence
# Git's include path and GNU C.
$(GS_OBJ)/%.o: contrib/git-compat/%.c contrib/git-compat/compat.h \
		$(GS_OBJ)/ours.h $(GS_TREE)/.unpacked
	$(CC) -std=gnu11 -g $(OPT) -fPIC $(WARN) $(filter -fsanitize% \
		-fno-sanitize% -fno-omit%,$(BASE_CFLAGS)) \
		-I$(GS_OBJ) -I$(GS_TREE) -c $< -o $@

$(GS_OBJ)/dump-reftable.o: contrib/git-compat/dump-reftable.c \
		$(PUBLIC_HEADERS) cli/blocks.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ireftable -Icli -c $< -o $@

# Our side in one object, every reftable_* name renamed lrt_reftable_*.
$(GS_OBJ)/lower.o: $(GS_LOWER_OBJS)
	$(LD) -r -o $@.tmp $^
	nm -g --defined-only $@.tmp | \
		awk '$$3 ~ /^reftable_/ { print $$3, "lrt_" $$3 }' > $@.syms
	objcopy --redefine-syms=$@.syms $@.tmp $@
	rm -f $@.tmp

# Both sides in one object that exports only Git's API and the test-tool
# command; every other name of ours is local to it.
$(GS_OBJ)/git-compat.o: $(GS_OBJ)/lower.o $(GS_COMPAT_OBJS)
	$(LD) -r -o $@.tmp $^
	{ nm -g --defined-only $(GS_COMPAT_OBJS) | awk 'NF == 3 && $$3 ~ /^reftable_/ { print $$3 }'; \
	  echo cmd__dump_reftable; } | sort -u > $@.keep
	objcopy --keep-global-symbols=$@.keep $@.tmp $@
	rm -f $@.tmp
	sh contrib/git-compat/check-undefined.sh $@
