# The tool's reader of Git's configuration: a Check test of the parser
# and the glob matcher, and gitconfig-get, which prints what the tool
# reads for t/cli/test-gitconfig.sh to compare with `git config`. Both
# link the tool's objects (all but main).
GITCONFIG_OBJS = $(filter-out $(B)/cli/main.o,$(CLI_OBJS))
GITCONFIG_UNIT = $(B)/t/cli-unit/test-gitconfig
GITCONFIG_GET = $(B)/t/cli-unit/gitconfig-get

$(B)/t/cli-unit/%: t/cli-unit/%.c $(GITCONFIG_OBJS) $(STATIC_LIB) $(wildcard cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ireftable -Icli $(CHECK_CFLAGS) -o $@ $< \
		$(GITCONFIG_OBJS) $(STATIC_LIB) $(ALL_LDFLAGS) $(CHECK_LIBS) \
		$(ZLIB_LIBS)

.PHONY: gitconfig-unit-test
gitconfig-unit-test: $(GITCONFIG_UNIT)
	@echo "== $(GITCONFIG_UNIT)"; $(GITCONFIG_UNIT)

unit-test: gitconfig-unit-test
cli-test: $(GITCONFIG_GET)
