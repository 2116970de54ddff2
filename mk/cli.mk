# The reftable tool's man page: Documentation/reftable.1 is generated
# from Documentation/reftable.1.md by cli/md2man.awk and committed, so
# building needs no documentation tools. `make man` regenerates it; the
# CLI tests fail if the committed page is out of date.
.PHONY: man
man: Documentation/reftable.1

Documentation/reftable.1: Documentation/reftable.1.md cli/md2man.awk
	awk -f cli/md2man.awk Documentation/reftable.1.md > $@

# `make install` also installs the bash completion.
.PHONY: install-completion
install: install-completion
install-completion:
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 644 contrib/completion/reftable.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/reftable
