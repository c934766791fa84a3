#!/usr/bin/env bash
# Debian packages: Tesseract for scanned PDFs and images; with "test", Chromium for the review
# page's browser test and pdftoppm for the scans the tests draw. Installed when run as root,
# else one line saying how.
set -euo pipefail
missing=()
command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr tesseract-ocr-fra)
if command -v tesseract >/dev/null 2>&1 && ! tesseract --list-langs 2>/dev/null | grep -qx fra; then
  missing+=(tesseract-ocr-fra)
fi
if [ "${1:-}" = test ] && ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
if [ "${1:-}" = test ] && ! command -v pdftoppm >/dev/null 2>&1; then
  missing+=(poppler-utils)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installation de ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "paquets Debian manquants : lancer « sudo apt-get install -y ${missing[*]} » (OCR des numérisations, tests de la page de revue et des numérisations)" >&2
fi
