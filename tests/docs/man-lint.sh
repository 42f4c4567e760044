# Every built man page passes groff's and mandoc's checks with nothing reported.
#   man-lint.sh PAGE...
# groff -ww -z: all warnings, no output. mandoc -T lint -W warning: everything from
# warnings up, except scdoc 1.11's own redundant paragraph macros (".P" right after .SH
# or .SS, and before .RS/.RE), which it emits for every section whatever the source
# says; those are filtered by exact message so that any other report fails.
source "$TALLY_SOURCE_ROOT/tests/lib.sh"

(($#)) || fail "no pages given"
command -v groff >/dev/null || { echo "SKIP: groff missing"; exit 77; }
have_mandoc=0
command -v mandoc >/dev/null && have_mandoc=1
scdoc_noise='WARNING: skipping paragraph macro: PP (empty|after SH|after SS)$'

bad=0
for page in "$@"; do
        [[ -s $page ]] || fail "$page: missing or empty"
        name=${page##*/}
        out=$(groff -ww -z -man "$page" 2>&1) || { echo "$name: groff failed"; bad=1; }
        if [[ -n $out ]]; then
                printf '%s: groff:\n%s\n' "$name" "$out"
                bad=1
        fi
        if ((have_mandoc)); then
                out=$(mandoc -T lint -W warning "$page" 2>&1 | grep -Ev "$scdoc_noise" || true)
                if [[ -n $out ]]; then
                        printf '%s: mandoc:\n%s\n' "$name" "$out"
                        bad=1
                fi
        fi
        # the page must say something: NAME, SYNOPSIS (or a section of its own), SEE ALSO
        for sh in NAME DESCRIPTION 'SEE ALSO'; do
                has -x "\.SH \"\?$sh\"\?" "$page" || { echo "$name: no $sh section"; bad=1; }
        done
        pass "$name"
done
((have_mandoc)) || echo "note: mandoc missing, groff only"
((bad == 0)) || fail "lint reports above"
