# bash completion for the reftable tool.
#
# Source it from ~/.bashrc, or install it as
# /usr/share/bash-completion/completions/reftable.
# Completes commands, each command's options, ref names (through
# `reftable list`) where a command takes a ref, and paths elsewhere.

_reftable_refs() {
	# The stack is the one -C names, if given earlier on the line.
	local i cdir=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -C ]]; then
			cdir=(-C "${COMP_WORDS[i + 1]}")
		fi
	done
	reftable "${cdir[@]}" list --format='%(refname)' 2>/dev/null
}

_reftable() {
	local cur prev cmd i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	local commands="list show log update compact clean unlock relist init verify dump write help"

	# The command is the first word that is not -C or its argument.
	cmd=""
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-C) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done

	if [[ $prev == -C ]]; then
		COMPREPLY=($(compgen -d -- "$cur"))
		return
	fi
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$commands -C --help --version" -- "$cur"))
		return
	fi

	local opts=""
	case $cmd in
	list) opts="--format= --json --sort= --count= --exclude= --ignore-case
		--points-at= --contains= --no-contains= --merged= --no-merged= --help" ;;
	show) opts="--verbose --json --help" ;;
	log) opts="--max-count= --oneline --format= --date= --json --help" ;;
	update) opts="--message= --stdin --null --delete --symref --no-deref
		--create-reflog --no-reflog --no-compact --name= --email= --date=
		--lock-timeout= --help" ;;
	compact) opts="--auto --expire-logs= --expire-logs-before= --lock-timeout=
		--help" ;;
	clean) opts="--dry-run --lock-timeout= --help" ;;
	unlock) opts="--min-age= --dry-run --force --help" ;;
	relist) opts="--dry-run --lock-timeout= --help" ;;
	init) opts="--hash= --help" ;;
	verify) opts="--json --quiet --help" ;;
	dump) opts="--records --blocks --stats --json --help" ;;
	write) opts="--output= --block-size= --restart-interval= --hash=
		--no-index-objects --unpadded --help" ;;
	help) COMPREPLY=($(compgen -W "$commands" -- "$cur")); return ;;
	esac

	case $cur in
	--date=*)
		COMPREPLY=($(compgen -W "default iso raw unix" -- "${cur#--date=}"))
		return ;;
	--hash=*)
		COMPREPLY=($(compgen -W "sha1 sha256" -- "${cur#--hash=}"))
		return ;;
	-*)
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		[[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace
		return ;;
	esac

	case $cmd in
	show | log | list | update)
		COMPREPLY=($(compgen -W "$(_reftable_refs)" -- "$cur")) ;;
	*)
		COMPREPLY=($(compgen -f -- "$cur")) ;;
	esac
}

complete -F _reftable reftable
