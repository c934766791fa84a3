"""Text PDFs set in two columns are read column by column; signature blocks side by side stay rows."""

from __future__ import annotations

from reportlab.pdfgen import canvas

from pipeline.read import read_file

LEFT = [
    "Article 1er - Objet",
    "Le délégant confie au délégataire,",
    "en son nom et pour son compte, la",
    "gestion des crédits du programme",
    "131 « Création » destinés au service",
    "numérique « Billetterie ».",
    "Article 2 - Montant",
    "Le montant des crédits délégués",
    "s'élève à 80 000 € en autorisations",
    "d'engagement pour l'année 2022.",
]
RIGHT = [
    "Article 3 - Durée",
    "La présente convention prend effet",
    "à compter de sa signature. Elle est",
    "conclue pour une durée d'un an.",
    "Article 4 - Résiliation",
    "Chaque partie peut y mettre fin",
    "par lettre, avec un préavis de trois",
    "mois avant la date anniversaire.",
    "Article 5 - Publication",
    "La convention est publiée au BO.",
]
SIGNATURES = [("Pour le délégant,", "Pour le délégataire,"), ("Claire Dumont", "Paul Girard")]


def two_column_pdf(path) -> None:
    pdf = canvas.Canvas(str(path), pagesize=(595, 842))
    pdf.setFont("Helvetica", 10)
    pdf.drawString(
        60, 790, "Convention de délégation de gestion entre la DGCA et la DINUM, conclue pour un an"
    )
    for number, (left, right) in enumerate(zip(LEFT, RIGHT, strict=True)):
        pdf.drawString(60, 760 - 14 * number, left)
        pdf.drawString(320, 760 - 14 * number, right)
    pdf.drawString(60, 560, "Fait à Paris, le 3 mars 2022, en deux exemplaires originaux et signés.")
    for number, (left, right) in enumerate(SIGNATURES):
        pdf.drawString(60, 530 - 14 * number, left)
        pdf.drawString(320, 530 - 14 * number, right)
    pdf.showPage()
    pdf.save()


def test_a_page_in_two_columns_is_read_column_by_column(tmp_path):
    two_column_pdf(tmp_path / "colonnes.pdf")
    text = read_file(tmp_path / "colonnes.pdf").text
    positions = [text.index(line.split()[-1]) for line in [LEFT[0], LEFT[-1], RIGHT[0], RIGHT[-1]]]
    assert positions == sorted(positions)
    assert text.index("Convention de délégation") < positions[0]
    assert "gestion des crédits du programme 131" in text  # lines of a column still joined


def test_signature_blocks_side_by_side_stay_rows_below_the_columns(tmp_path):
    two_column_pdf(tmp_path / "colonnes.pdf")
    text = read_file(tmp_path / "colonnes.pdf").text
    assert "Pour le délégant,\tPour le délégataire," in text
    assert "Claire Dumont\tPaul Girard" in text
    assert text.index(RIGHT[-1]) < text.index("Fait à Paris")
