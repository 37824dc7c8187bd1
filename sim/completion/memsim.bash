# bash completion for memsim.                                      -*- shell-script -*-
#
# Installed to $(PREFIX)/share/bash-completion/completions/memsim by `make install`; or
# `source sim/completion/memsim.bash` by hand.  Every list (commands, sub-commands,
# options, models, policies, scenarios, parameters) is read from memsim's own --help,
# --params and `trace gen --list`, so it cannot drift from the program.

# Words at the start of an indented line of "memsim ARGS...": the commands of a usage text.
_memsim_listed() {
	"${_memsim_bin}" "$@" 2>/dev/null | sed -n 's/^  \([a-z][a-z0-9-]*\)\( .*\)\{0,1\}$/\1/p' | awk '!seen[$0]++'
}

# The --options that "memsim ARGS... --help" mentions.
_memsim_options() {
	"${_memsim_bin}" "$@" --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

# Models (two-space indent) or, given a model, its policies (six-space indent).
_memsim_models() {
	"${_memsim_bin}" run --help 2>/dev/null |
		sed -n '/^models and policies:/,$ s/^  \([a-z][a-z0-9-]*\) .*/\1/p'
}
_memsim_policies() {
	"${_memsim_bin}" run --help 2>/dev/null | awk -v m="$1" '
		/^models and policies:/ { on = 1; next }
		on && /^  [a-z]/ { cur = $1; next }
		on && /^      [a-z]/ && cur == m { print $1 }'
}

_memsim_scenarios() {
	"${_memsim_bin}" trace gen --list 2>/dev/null | sed -n 's/^\([a-z][a-z0-9-]*\)$/\1/p'
}

_memsim_param_names() {   # model [scenario]
	local args=(run --params --model "$1")
	[ -n "$2" ] && args+=(--scenario "$2")
	"${_memsim_bin}" "${args[@]}" 2>/dev/null | awk '{ print $2 "=" }'
}

_memsim() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local _memsim_bin=${COMP_WORDS[0]}
	local cmd=${COMP_WORDS[1]-} sub="" model=rmap scenario="" i w

	COMPREPLY=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--model) model=${COMP_WORDS[i + 1]-} ;;
		--scenario) scenario=${COMP_WORDS[i + 1]-} ;;
		esac
	done
	if ((COMP_CWORD == 1)); then
		COMPREPLY=($(compgen -W "$(_memsim_listed --help)" -- "$cur"))
		return
	fi
	case $cmd in
	trace | db | plot)
		if ((COMP_CWORD == 2)); then
			COMPREPLY=($(compgen -W "$(_memsim_listed "$cmd" --help)" -- "$cur"))
			return
		fi
		sub=${COMP_WORDS[2]}
		;;
	esac
	case $prev in
	--model) COMPREPLY=($(compgen -W "$(_memsim_models)" -- "$cur")); return ;;
	--policy)
		# A sweep takes a comma-separated list: complete the last element.
		local head="" last=$cur
		if [[ $cur == *,* ]]; then head=${cur%,*},; last=${cur##*,}; fi
		COMPREPLY=($(compgen -P "$head" -W "$(_memsim_policies "$model")" -- "$last"))
		return ;;
	--scenario) COMPREPLY=($(compgen -W "$(_memsim_scenarios)" -- "$cur")); return ;;
	--set)
		compopt -o nospace 2>/dev/null
		COMPREPLY=($(compgen -W "$(_memsim_param_names "$model" "$scenario")" -- "$cur"))
		return ;;
	--trace | --db | -o | --out | --file | --profile | --data | --from)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	esac
	if [[ $cmd == trace && $sub == gen && $COMP_CWORD == 3 ]]; then
		COMPREPLY=($(compgen -W "$(_memsim_scenarios)" -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_memsim_options "$cmd" ${sub:+"$sub"})" -- "$cur"))
		return
	fi
	compopt -o filenames 2>/dev/null
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _memsim memsim
