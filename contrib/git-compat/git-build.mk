# Read by Git's make after Git's own Makefile (make -f Makefile -f THIS):
# Git is built as it ships, except that
#  - libgit.a leaves out Git's reftable/*.o and takes GIT_COMPAT_OBJ, the
#    compat layer linked with our library (mk/git-suite.mk builds it);
#  - t/helper/test-reftable.o, whose dump-reftable reads tables through
#    Git's internal block API, is empty: cmd__dump_reftable comes from
#    GIT_COMPAT_OBJ (contrib/git-compat/dump-reftable.c).
# Make says it overrides the two recipes; that is the point.

ifeq ($(GIT_COMPAT_OBJ),)
$(error GIT_COMPAT_OBJ is not set)
endif

$(LIB_FILE): $(GIT_COMPAT_OBJ)
	$(QUIET_AR)$(RM) $@ && \
	$(AR) $(ARFLAGS) $@ $(filter-out reftable/%.o,$^)

t/helper/test-reftable.o: $(GIT_COMPAT_OBJ)
	$(QUIET_CC)echo 'typedef int git_compat_empty_unit;' | \
	$(CC) -x c -c -o $@ -
