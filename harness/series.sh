#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Write the mailing-list series of TREE (lw-base..lw-mm) to OUT, with the
# cover letter from patches/cover-letter.txt (subject line, blank, body).
set -euo pipefail
tree=$1 out=$2
repo=$(cd "$(dirname "$0")/.." && pwd)

# The series' identity is patches/AUTHOR, not whoever runs this; user
# settings that would change the patches' shape are overridden.
author=$(cat "$repo/patches/AUTHOR")
name=${author% <*}
email=${author##*<}
email=${email%>*}

rm -rf "$out"
mkdir -p "$out"
git -C "$tree" -c core.abbrev=12 -c user.name="$name" -c user.email="$email" \
	-c diff.noprefix=false -c diff.mnemonicPrefix=false -c format.signOff=false \
	-c format.numbered=auto -c diff.renames=true \
	format-patch -q --cover-letter --thread=shallow --base=lw-base -o "$out" lw-base..lw-mm
python3 - "$out/0000-cover-letter.patch" "$repo/patches/cover-letter.txt" <<'PY'
import sys
cover, text = sys.argv[1], open(sys.argv[2]).read()
subject, _, body = text.partition("\n\n")
s = open(cover).read()
assert "*** SUBJECT HERE ***" in s and "*** BLURB HERE ***" in s, cover
s = s.replace("*** SUBJECT HERE ***", subject.strip()).replace("*** BLURB HERE ***", body.strip())
open(cover, "w").write(s)
PY
n=$(ls "$out" | grep -vc '^0000-cover-letter.patch$')
echo "series: $n patches and a cover letter in $out"
