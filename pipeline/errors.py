"""The errors a file can give: each is one line in errors.csv, and the batch goes on."""


class ReadError(Exception):
    """A file that cannot be read; `kind` names the error in errors.csv."""

    kind = "illisible"


class EmptyFile(ReadError):
    kind = "fichier_vide"


class TooLarge(ReadError):
    kind = "trop_volumineux"


class UnreadableText(ReadError):
    kind = "texte_illisible"


class UnsupportedFormat(ReadError):
    kind = "format_non_pris_en_charge"


class EncryptedPdf(ReadError):
    kind = "pdf_chiffre"


class BrokenPdf(ReadError):
    kind = "pdf_endommage"


class OcrUnavailable(ReadError):
    kind = "ocr_indisponible"


class NoText(ReadError):
    kind = "aucun_texte"


class NotAConvention(Exception):
    """The text does not read as a convention de délégation de gestion."""
