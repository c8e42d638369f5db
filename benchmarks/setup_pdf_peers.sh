#!/usr/bin/env bash
# The PDF libraries Winnow's pdf reader (pypdfium2) is measured against, in their own environment:
# pypdf (BSD-3-Clause) and pdfminer.six (MIT). AGPL ones (PyMuPDF) are not considered. And the
# real documents: Debian's FAQ ships the same text as PDF and as plain text (the reference for quality).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PY:-python3.11}
[ -x .venv-pdf/bin/python ] || $PY -m venv .venv-pdf
.venv-pdf/bin/pip install -q "pypdf>=4" "pdfminer.six>=20231228" "pypdfium2>=4.20"
mkdir -p out-collect/debs out-collect/docs
cd out-collect/debs
[ -f debian-faq_11.1_all.deb ] || apt-get download debian-faq=11.1 developers-reference debmake-doc
for deb in *.deb; do dpkg-deb -x "$deb" x; done
cd ../docs
zcat ../debs/x/usr/share/doc/debian/FAQ/debian-faq.en.pdf.gz > debian-faq.en.pdf
zcat ../debs/x/usr/share/doc/debian/FAQ/debian-faq.en.txt.gz > debian-faq.en.txt
cp ../debs/x/usr/share/developers-reference/developers-reference.pdf .
cp ../debs/x/usr/share/doc/debmake-doc/debmake-doc.en.pdf .
echo "PDF peers in benchmarks/.venv-pdf, documents in benchmarks/out-collect/docs"
