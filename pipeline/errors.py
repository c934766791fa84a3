"""The errors a file can give: each is one line in errors.csv, and the batch goes on."""


class ReadError(Exception):
    """A file that cannot be read; `kind` names the error in errors.csv."""

    kind = "unreadable"


class EmptyFile(ReadError):
    kind = "empty"


class TooLarge(ReadError):
    kind = "too_large"


class UnreadableText(ReadError):
    kind = "unreadable_text"


class UnsupportedFormat(ReadError):
    kind = "unsupported_format"


class EncryptedPdf(ReadError):
    kind = "encrypted_pdf"


class BrokenPdf(ReadError):
    kind = "broken_pdf"


class OcrUnavailable(ReadError):
    kind = "ocr_unavailable"


class NoText(ReadError):
    kind = "no_text"


class NotAConvention(Exception):
    """The text does not read as a convention de délégation de gestion."""
