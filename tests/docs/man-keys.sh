# Every [section] key the configuration parser accepts is documented in tally.conf(5),
# under that section's heading. The candidates are read from the parser's sources at
# test time (every lowercase identifier among the string literals of common/config*.c),
# and the parser itself decides which are keys: tally-worker --check-config names each
# line it does not know as "[section] key: unknown key". So a key added, renamed or moved
# into a table by a refactor is found without this test changing.
#   man-keys.sh BUILT_tally.conf.5
source "$TALLY_SOURCE_ROOT/tests/lib.sh"

page=${1:?built tally.conf.5}
[[ -s $page ]] || fail "$page missing"
[[ -x $TALLY_WORKER ]] || fail "tally-worker not built"

mapfile -t literals < <(cat "$TALLY_SOURCE_ROOT"/common/config*.c |
        grep -o '"[a-z][a-z0-9_]*\.\?"' | tr -d '"' | sort -u)
((${#literals[@]} > 10)) || fail "found only ${#literals[@]} string literals in common/config*.c"

# Sections: plain names the parser takes as a section, and "kind." prefixes (source.,
# view.) it takes with a name after them.
fixture_source() { printf 'type = csv\npath = /nonexistent.csv\ncolumns = a:str, n:num, ts:time\n'; }
fixture_view() { printf 'source = t\naggregates = count\n'; }
sections=()
for l in "${literals[@]}"; do
        case $l in
        *.) s=${l}x ;;
        *) s=$l ;;
        esac
        printf '[%s]\n' "$s" >"$T/s.conf"
        out=$("$TALLY_WORKER" --config "$T/s.conf" --check-config 2>&1 || true)
        has 'unknown section' <<<"$out" || sections+=("$s")
done
((${#sections[@]} >= 3)) || fail "parser accepted only these sections: ${sections[*]}"

# Which candidate is a key of which section: one file per section, one candidate per
# line, plus a control key that must come out unknown. The candidates go first in the
# section's body, the smallest valid source and view after them (the last "source ="
# wins), so view keys are checked against a real source.
candidates() { for l in "${literals[@]}" no_such_key_for_the_test; do echo "$l = 1"; done; }
declare -A accepted=()
n_keys=0
for s in "${sections[@]}"; do
        case $s in
        source.*) sec=source.t ;;
        view.*) sec=view.v ;;
        *) sec=$s ;;
        esac
        {
                echo '[source.t]'
                if [[ $sec == source.t ]]; then candidates; fi
                fixture_source
                echo '[view.v]'
                if [[ $sec == view.v ]]; then candidates; fi
                fixture_view
                if [[ $sec != source.t && $sec != view.v ]]; then
                        echo "[$sec]"
                        candidates
                fi
        } >"$T/k.conf"
        first=$(grep -n -m1 "^${literals[0]} = 1\$" "$T/k.conf" | cut -d: -f1)
        out=$("$TALLY_WORKER" --config "$T/k.conf" --check-config 2>&1 || true)
        has -F "[$sec] no_such_key_for_the_test: unknown key" <<<"$out" ||
                fail "[$s]: the parser's 'unknown key' report was not recognised: $out"
        i=$first
        for l in "${literals[@]}"; do
                if ! has -E ":$i: \[$sec\] $l: unknown key" <<<"$out"; then
                        accepted["$s $l"]=1
                        n_keys=$((n_keys + 1))
                fi
                i=$((i + 1))
        done
done
((n_keys >= 15)) || fail "parser accepted only $n_keys keys: ${!accepted[*]}"

# The page: a .SS heading per section ("[tally]", "[source.NAME]"), keys as
# "\fBkey =\fR" at the start of a line under it.
declare -A documented=()
cur=
while IFS= read -r line; do
        if [[ $line =~ ^\.SS\ \"?\[([a-z]+)(\.NAME)?\]\"?$ ]]; then
                cur=${BASH_REMATCH[1]}${BASH_REMATCH[2]:+.x}
        elif [[ -n $cur && $line =~ ^\\fB([a-z][a-z0-9_]*)\ =\\fR ]]; then
                documented["$cur ${BASH_REMATCH[1]}"]=1
        elif [[ $line == .SH* ]]; then
                cur=
        fi
done <"$page"

missing=()
for k in "${!accepted[@]}"; do
        [[ -n ${documented[$k]:-} ]] || missing+=("[${k% *}] ${k#* }")
done
((${#missing[@]} == 0)) || fail "accepted by the parser but not in tally.conf(5): ${missing[*]}"
extra=()
for k in "${!documented[@]}"; do
        [[ -n ${accepted[$k]:-} ]] || extra+=("[${k% *}] ${k#* }")
done
((${#extra[@]} == 0)) || fail "documented in tally.conf(5) but refused by the parser: ${extra[*]}"
pass "$n_keys keys in ${#sections[@]} sections, each documented under its section"
