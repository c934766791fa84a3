"""Each field family on short texts written for the test, in the layouts conventions use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.extract.record import extract_document
from pipeline.model import Document

# Whole conventions written for the tests, one per published layout, each with the values it
# must give beside it (TEXT.json: dotted field -> value).
TEXTS = sorted((Path(__file__).resolve().parent / "texts").glob("*.txt"))

PROSE_PARTIES = (
    "La présente convention est conclue entre la direction régionale des finances publiques "
    "de Bretagne, représentée par M. Jean DUPONT, directeur régional, désignée sous le terme de "
    "« délégant », d'une part, et le centre de services partagés Chorus du ministère de "
    "l'intérieur, représenté par Mme Claire MARTIN, cheffe du centre, désigné sous le terme de "
    "« délégataire », d'autre part.\n"
)

SIGNATURE_ONLY = (
    "Convention de délégation de gestion\n"
    "Le délégant confie au délégataire l'ordonnancement des dépenses.\n"
    "Fait à Rennes, le 10 janvier 2011\n"
    "Le délégant,\n"
    "Jeanne DURAND\n"
    "Directrice régionale des finances publiques\n"
    "Le délégataire,\n"
    "Paul MARTIN\n"
    "Chef du centre de services partagés\n"
)


def test_parties_introduced_in_prose_with_their_roles(extract_text):
    record = extract_text(PROSE_PARTIES)
    assert record["delegant"]["nom"].startswith("Direction régionale des finances publiques")
    assert record["delegant"]["representant"]["nom"] == "Jean Dupont"
    assert record["delegataire"]["representant"] == {"nom": "Claire Martin", "fonction": "cheffe du centre"}


def test_parties_closed_by_d_une_part_then_a_line_et(extract_text):
    text = (
        "Entre\n\nLa direction départementale des territoires du Cher, représentée par "
        "M. Jean-Pierre Martin, directeur départemental, ci-après désigné « le délégant »,\n\n"
        "d'une part,\n\nEt\n\nLe centre de prestations comptables mutualisé (CPCM), représenté par "
        "Mme Sophie Lefèvre, cheffe du centre, ci-après désigné « le délégataire »,\n\nd'autre part,\n"
    )
    record = extract_text(text)
    assert record["delegant"]["nom"] == "Direction départementale des territoires du Cher"
    assert record["delegataire"]["nom"] == "Centre de prestations comptables mutualisé"
    assert record["delegataire"]["sigle"] == "CPCM"


def test_parties_named_only_in_the_signature_block(extract_text):
    record = extract_text(SIGNATURE_ONLY)
    assert record["delegant"]["representant"]["nom"] == "Jeanne Durand"
    assert record["delegataire"]["representant"]["nom"] == "Paul Martin"
    assert "pas de bloc des parties : parties lues dans le bloc des signatures" in record["warnings"]


def test_signatories_take_their_role_from_the_label_above_them(extract_text):
    record = extract_text(SIGNATURE_ONLY)
    assert [(s["nom"], s["partie"]) for s in record["signataires"]] == [
        ("Jeanne Durand", "delegant"),
        ("Paul Martin", "delegataire"),
    ]
    assert record["signataires"][0]["fonction"] == "Directrice régionale des finances publiques"


def test_signing_by_delegation_is_recorded(extract_text):
    text = "Fait à Paris, le 29/05/2020\nLe délégant,\nPar délégation,\nCécile LAGACHE\nDirectrice adjointe\n"
    record = extract_text(text)
    assert record["signataires"][0]["par_delegation"] is True


def test_role_label_typo_is_read_and_warned(extract_text):
    text = (
        "Entre,\nLa Délégation générale à l'emploi (DGEFP)\nCi-après dénommée « délégrant »,\n"
        "Et\nLa Direction interministérielle du numérique (DINUM)\nCi-après dénommée « délégataire »,\n"
        "Il a été convenu ce qui suit :\n"
    )
    record = extract_text(text)
    assert record["delegant"]["sigle"] == "DGEFP"
    assert "mention de rôle « délégrant » lue comme délégant" in record["warnings"]


def test_unreadable_role_is_the_complement_of_the_other(extract_text):
    text = (
        "Entre :\nLa direction du budget (DB), dénommée ci-après le « délégué »,\n"
        "Et :\nLa direction des achats (DAE), dénommée ci-après le « délégataire »,\n"
        "Il est convenu ce qui suit :\n"
    )
    record = extract_text(text)
    assert (record["delegant"]["sigle"], record["delegataire"]["sigle"]) == ("DB", "DAE")


def test_uo_in_prose_gives_the_programme(extract_text):
    record = extract_text("Les dépenses sont imputées sur l'UO 0165-CCAC-DT38 du programme 165.")
    assert (record["centre_financier"], record["programme"]) == ("0165-CCAC-DT38", "165")


def test_two_different_uo_codes_are_warned(extract_text):
    record = extract_text("Centre financier : 0148-CAFP-C004\nsur l'UO 0148-CAFP-C005\n")
    assert any("2 valeurs différentes pour centre_financier" in w for w in record["warnings"])


def test_amount_only_in_words(extract_text):
    record = extract_text("Le délégant met à disposition du délégataire la somme de CENT MILLE EUROS.")
    assert record["montants"][0]["montant"] == 100000
    assert record["montant_total"] == 100000


def test_amount_with_dot_thousands(extract_text):
    record = extract_text("Le montant alloué est de 215.000 euros.")
    assert [m["montant"] for m in record["montants"]] == [215000]


def test_amounts_by_year_over_several_years_total_the_ae(extract_text):
    text = "\tAE\tCP\n2021\t60 000 €\t30 000 €\n2022\t40 000 €\t70 000 €\n"
    record = extract_text(text)
    assert record["montant_total"] == 100000
    assert len(record["montants"]) == 4


def test_stated_total_wins_over_the_sum(extract_text):
    text = "pour un montant total de 90 000 €.\n\tAE\tCP\n2021\t60 000 €\t30 000 €\n"
    assert extract_text(text)["montant_total"] == 90000


def test_end_of_the_year_of_signature(extract_text):
    text = "La convention est valable jusqu'au 31 décembre de l'année.\nFait à Paris, le 1er mars 2021\n"
    assert extract_text(text)["date_fin"] == "2021-12-31"


def test_end_of_the_year_without_a_signature_date_stays_null(extract_text):
    assert extract_text("La convention est valable jusqu'au 31 décembre de l'année.")["date_fin"] is None


def test_swapped_fait_le_place_a_date(extract_text):
    record = extract_text("Fait le Paris\nà 25/03/2020\nLe délégant,\n")
    assert (record["lieu_signature"], record["date_signature"]) == ("Paris", "2020-03-25")
    assert any("inversée" in w for w in record["warnings"])


def test_blank_signature_date_is_null_and_warned(extract_text):
    record = extract_text("Fait à Paris, en deux originaux, le\nà\nLe délégant,\n")
    assert record["date_signature"] is None
    assert "date de signature laissée en blanc" in record["warnings"]


def test_unstated_fields_are_null_not_guessed(extract_text):
    record = extract_text("Convention de délégation de gestion entre le délégant et le délégataire.")
    for field in ("centre_financier", "programme", "montant_total", "duree", "date_signature", "preavis"):
        assert record[field] is None, field
    assert record["montants"] == []


def test_evidence_points_at_the_source_span(extract_text):
    text = "Domaine fonctionnel :\t0352, action 1\n"
    record = extract_text(text)
    evidence = record["evidence"]["domaine_fonctionnel"]
    assert text[evidence["start"] : evidence["end"]] == evidence["text"]
    assert record["domaine_fonctionnel"] == "0352-01"


def test_a_name_with_a_known_first_name_is_a_signatory_without_the_model(patterns):
    from pipeline.extract.signature import is_person

    def model(text):
        raise AssertionError("the model was asked")

    assert is_person("Cécile Lagache", patterns, model)
    assert not is_person("Direction Générale", patterns, model)


def test_a_name_with_an_unknown_first_name_is_left_to_the_model(patterns, nlp):
    from pipeline.extract.signature import is_person

    if nlp is None:
        return
    assert is_person("Ferdinand Lagache", patterns, nlp)


def test_signatures_side_by_side_are_read_column_by_column(extract_text):
    record = extract_text(
        "Convention de délégation de gestion.\n"
        * 20
        + "Fait à Paris, le 3 février 2021\n\nLe délégant                 Le délégataire\n"
        "Jérôme Letier               Claire Petit\n"
    )
    assert [(s["nom"], s["partie"]) for s in record["signataires"]] == [
        ("Jérôme Letier", "delegant"),
        ("Claire Petit", "delegataire"),
    ]


def test_terms_come_from_the_articles_before_an_annex(extract_text):
    record = extract_text(
        "Convention de délégation de gestion.\nLa présente convention prend effet le 1er mars 2021.\n"
        "Fait à Paris, le 15 février 2021\n\nLe délégant\nJean Dupont\n\nAnnexe : marché associé\n"
        "Le marché prend effet le 1er avril 2021. Il est conclu pour une durée de deux ans.\n"
    )
    assert record["prise_effet"] == "2021-03-01"
    assert record["duree"] == "P2Y"
    assert record["evidence"]["duree"]["confidence"] < 0.75


def test_a_signature_block_without_fait_starts_at_its_place_and_date(extract_text):
    record = extract_text(
        "Convention de délégation de gestion.\n" * 20
        + "Paris, le 12 mars 2021\n\nLe délégant\nJean Dupont\n\nLe délégataire\nMarie Curie\n"
    )
    assert (record["lieu_signature"], record["date_signature"]) == ("Paris", "2021-03-12")
    assert [(s["nom"], s["partie"]) for s in record["signataires"]] == [
        ("Jean Dupont", "delegant"),
        ("Marie Curie", "delegataire"),
    ]


@pytest.fixture(scope="module")
def layouts(patterns, nlp) -> dict[str, dict]:
    return {
        path.stem: extract_document(Document(path.name, path.read_text(encoding="utf-8")), patterns, nlp)
        for path in TEXTS
    }


def value_at(record: dict, path: str) -> object:
    """A record's value by dotted path, list items by index: "parties.1.role"; evidence is
    keyed by dotted field names: "evidence.delegant.nom.start"."""
    node: object = record
    keys = path.split(".")
    while keys:
        if isinstance(node, list):
            node, keys = node[int(keys[0])], keys[1:]
            continue
        size = next(n for n in range(len(keys), 0, -1) if n == 1 or ".".join(keys[:n]) in node)
        node, keys = node[".".join(keys[:size])], keys[size:]
    return node


def expected_values(path: Path) -> list[tuple[str, object]]:
    return list(json.loads(path.with_suffix(".json").read_text(encoding="utf-8")).items())


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        pytest.param(path.stem, field, value, id=f"{path.stem}:{field}")
        for path in TEXTS
        for field, value in expected_values(path)
    ],
)
def test_layout_gives_the_values_written_beside_it(layouts, text, field, expected):
    assert value_at(layouts[text], field) == expected


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.stem)
def test_layout_evidence_spans_match_the_text_at_their_offsets(layouts, path):
    text = path.read_text(encoding="utf-8")
    for field, evidence in layouts[path.stem]["evidence"].items():
        assert text[evidence["start"] : evidence["end"]] == evidence["text"], field


def test_a_role_read_from_the_side_of_d_une_part_goes_to_review(layouts, patterns):
    record = layouts["three_parties_delegant_last"]
    threshold = patterns["review"]["threshold"]
    assert record["evidence"]["parties[1].nom"]["confidence"] < threshold
    assert record["evidence"]["delegant.nom"]["confidence"] >= threshold


def test_parties_whose_roles_are_never_stated_go_to_review_in_text_order(extract_text, patterns):
    record = extract_text(
        "Entre\nLa direction du budget, d'une part,\nEt\nLa direction des achats de l'État, d'autre part.\n"
        "Il est convenu ce qui suit : délégation de gestion.\n"
    )
    assert (record["delegant"]["nom"], record["delegataire"]["nom"]) == (
        "Direction du budget",
        "Direction des achats de l'État",
    )
    assert record["evidence"]["delegant.nom"]["confidence"] < patterns["review"]["threshold"]


def test_a_truncated_text_is_warned_and_keeps_no_piece_of_a_value(layouts):
    record = layouts["truncated_excerpt_in_parties"]
    assert any(warning.startswith("le texte semble tronqué") for warning in record["warnings"])
    assert [party["role"] for party in record["parties"]] == ["delegant"]


def test_a_complete_text_is_not_warned_as_truncated(layouts):
    for name in ("bo_education_convention_complete", "jorf_avenant_delegataire_first"):
        assert not any("tronqué" in warning for warning in layouts[name]["warnings"]), name


def test_a_publication_date_is_never_the_signature_date(extract_text):
    record = extract_text(
        "Référence de publication : BOC n°20 du 25/5/2018\n\nEntre\nLe directeur A, délégant, d'une part,\n"
        "Et\nLe directeur B, délégataire, d'autre part.\nIl est convenu ce qui suit.\n"
    )
    assert (record["date_signature"], record["date_publication"]) == (None, "2018-05-25")


def test_a_ministry_dropped_before_a_sigle_the_text_never_expands_goes_to_review(extract_text, patterns):
    record = extract_text(
        "Entre\nLa structure de maintien des matériels du ministère de la défense (SMM), délégant, "
        "d'une part,\nEt\nLa direction des achats, délégataire, d'autre part.\nIl est convenu ce qui suit.\n"
    )
    assert record["delegant"]["nom"] == "Structure de maintien des matériels"
    assert record["evidence"]["delegant.nom"]["confidence"] < patterns["review"]["threshold"]


def test_a_heading_over_two_signatures_gives_both_its_role(extract_text):
    text = (
        "Fait à Paris, le 4 mars 2024.\n\nLe délégant :\n\nPour le ministre et par délégation,\n"
        "le directeur du budget,\nJean DUPONT.\n\nLe chef du service des achats,\nPaul MARTIN.\n\n"
        "Le délégataire :\n\nLa directrice du numérique,\nAnne PETIT.\n"
    )
    record = extract_text(text)
    assert [(s["nom"], s["partie"]) for s in record["signataires"]] == [
        ("Jean Dupont", "delegant"),
        ("Paul Martin", "delegant"),
        ("Anne Petit", "delegataire"),
    ]


def test_a_label_over_one_signature_is_no_heading_for_the_next(extract_text):
    text = (
        "Entre\nLa direction du budget, ci-après « le délégant »,\nEt\nLa direction du numérique, "
        "ci-après « le délégataire ».\nIl est convenu ce qui suit :\n"
        "Fait à Paris, le 4 mars 2024.\n\nLe délégant,\nle directeur du budget,\nJean DUPONT\n\n"
        "La directrice du numérique,\nAnne PETIT\n"
    )
    record = extract_text(text)
    assert [(s["nom"], s["partie"]) for s in record["signataires"]] == [
        ("Jean Dupont", "delegant"),
        ("Anne Petit", "delegataire"),
    ]


def test_signatures_labelled_without_a_fait_line_are_read(extract_text):
    text = (
        "Article 1 – Objet\n\nLe délégant confie au délégataire l'ordonnancement des dépenses "
        "d'entretien des véhicules des services de police de la zone.\n\n"
        "Article 5 – Publication\n\nLa présente convention est publiée au recueil des actes "
        "administratifs.\n\nLe délégant,\nle directeur zonal,\n\nJean DUPONT\n\n"
        "Le délégataire,\nla secrétaire générale,\n\nAnne PETIT\n"
    )
    record = extract_text(text)
    assert [(s["nom"], s["partie"]) for s in record["signataires"]] == [
        ("Jean Dupont", "delegant"),
        ("Anne Petit", "delegataire"),
    ]


def test_signatures_side_by_side_without_a_fait_line_are_read(extract_text):
    text = (
        "Article 1 – Objet\n\nLe délégant confie au délégataire l'ordonnancement des dépenses "
        "d'entretien des véhicules des services de police de la zone.\n\n"
        "Article 5 – Publication\n\nLa présente convention est publiée au recueil des actes "
        "administratifs.\n\nLe délégant,          Le délégataire,\n"
        "Jean DUPONT          Anne PETIT\n"
    )
    record = extract_text(text)
    assert [(s["nom"], s["partie"]) for s in record["signataires"]] == [
        ("Jean Dupont", "delegant"),
        ("Anne Petit", "delegataire"),
    ]


def test_a_date_with_no_break_spaces_is_read(extract_text):
    record = extract_text("Convention.\n" * 30 + "Fait à Paris, le\u00a014\u00a0mars\u00a02024\n")
    assert (record["lieu_signature"], record["date_signature"]) == ("Paris", "2024-03-14")


def test_two_signatures_with_no_role_said_are_read_in_the_decret_order(extract_text):
    text = "Convention.\n" * 30 + "Fait à Paris, le 4 mars 2024\nJean DUPONT\nAnne PETIT\n"
    record = extract_text(text)
    assert [s["partie"] for s in record["signataires"]] == ["delegant", "delegataire"]
    assert "rôles des signataires non indiqués" in " ".join(record["warnings"])


def test_a_lone_signature_under_stacked_headings_takes_the_closest(extract_text):
    text = "Convention.\n" * 30 + "Fait à Paris, le 4 mars 2024\nLe délégant\n\nLe délégataire\nAnne PETIT\n"
    assert [s["partie"] for s in extract_text(text)["signataires"]] == ["delegataire"]


def test_labels_of_a_parties_block_are_no_signatures(extract_text):
    text = (
        "Convention de délégation de gestion\n\nLe délégant :\nLa direction du budget, représentée par "
        "M. Jean Dupont, directeur du budget.\n\nLe délégataire :\nLa direction du numérique, "
        "représentée par Mme Anne Petit, directrice.\n\nArticle 1 – Objet\n\nLe délégant confie au "
        "délégataire l'ordonnancement des dépenses de fonctionnement de ses services centraux.\n\n"
        "Article 2 – Durée\n\nLa présente convention prend effet à compter de sa signature.\n\n"
        "Le délégant,\nJean DUPONT\n\nLe délégataire,\nAnne PETIT\n"
    )
    record = extract_text(text)
    assert record["delegataire"]["nom"] == "Direction du numérique"
    assert [(s["nom"], s["partie"]) for s in record["signataires"]] == [
        ("Jean Dupont", "delegant"),
        ("Anne Petit", "delegataire"),
    ]


def test_a_fait_line_left_blank_gives_way_to_the_letter_line_heading_the_act(extract_text):
    text = (
        "Toulouse, le 5 juin 2023\n\nCONVENTION DE DÉLÉGATION DE GESTION\n\nEntre\nLa direction A, "
        "ci-après « le délégant »,\nEt\nLa direction B, ci-après « le délégataire ».\n"
        + "Le délégant confie au délégataire l'ordonnancement des dépenses.\n" * 6
        + "Fait à Toulouse, le\n\nLe délégant,\nJean DUPONT\n"
    )
    record = extract_text(text)
    assert (record["lieu_signature"], record["date_signature"]) == ("Toulouse", "2023-06-05")
    assert "date de signature laissée en blanc" in record["warnings"]


def test_a_heading_over_two_signatures_ends_at_a_block_for_the_other_party(extract_text):
    text = (
        "Entre\nLe ministère des armées, ci-après « le délégant »,\nEt\nLe service de soutien de "
        "la flotte (SSF), ci-après « le délégataire ».\nIl est convenu ce qui suit :\n"
        "Fait à Paris, le 4 mars 2024\nLe délégant :\n\nLe directeur du budget,\nJean DUPONT\n\n"
        "Le major général,\nPaul MARTIN\n\nPour le SSF,\nLa directrice,\nAnne PETIT\n"
    )
    record = extract_text(text)
    assert [s["partie"] for s in record["signataires"]] == ["delegant", "delegant", "delegataire"]
