# The reftable tool's man page: Documentation/reftable.1 is generated
# from Documentation/reftable.1.md by cli/md2man.awk and committed, so
# building needs no documentation tools. `make man` regenerates it; the
# CLI tests fail if the committed page is out of date.
.PHONY: man
man: Documentation/reftable.1

Documentation/reftable.1: Documentation/reftable.1.md cli/md2man.awk
	awk -f cli/md2man.awk Documentation/reftable.1.md > $@
