#!/usr/bin/env bash
# Debian packages the OCR path needs; installed when run as root, else one line saying how.
set -euo pipefail
packages=(tesseract-ocr tesseract-ocr-fra)
missing=()
command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr)
if command -v tesseract >/dev/null 2>&1 && ! tesseract --list-langs 2>/dev/null | grep -qx fra; then
  missing+=(tesseract-ocr-fra)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${packages[*]} (OCR for scanned PDFs and images)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
else
  echo "OCR unavailable: run 'sudo apt-get install -y ${packages[*]}' to read scanned PDFs and images" >&2
fi
