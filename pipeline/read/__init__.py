"""Reading: text files, text-layer PDFs, scans and images, each into a Document."""

from pipeline.read.files import SUFFIXES, Limits, read_file

__all__ = ["SUFFIXES", "Limits", "read_file"]
