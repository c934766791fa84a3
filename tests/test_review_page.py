"""review.html in Chromium, as the officer uses it: find what to check, verify or correct it on
the page, export the corrections, run again and find them in the dataset."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import SAMPLES

from pipeline.batch import Options, run
from pipeline.dataset.review import review_html

pytestmark = pytest.mark.browser

OPTIONS = Options(jobs=1, use_spacy=False, use_cache=True)
BLANK_DATE = "004_18e5c938af976e70.txt"  # its signature date is left blank
INITIALS = "002_d40404dbd0e9c007.txt"  # its delegant's sigle is made from initials
WARNED = "003_aa5b457ba905f1ad.txt"  # two warnings, no doubtful field
HOSTILE = 'Directeur <!--<script> général </script><script>document.body.innerHTML=""</script>\u2028'


@pytest.fixture(scope="module")
def browser():
    module = pytest.importorskip("pipeline.dataset.browser")
    try:
        module.chromium_path()
    except module.BrowserMissing as missing:
        pytest.skip(str(missing))
    return module


@pytest.fixture
def page(browser):
    with browser.browser_page() as page:
        yield page


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("reviewed")
    run(SAMPLES, outdir, OPTIONS)
    return outdir


def records_of(outdir) -> dict[str, dict]:
    records = json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))
    return {record["fichier_source"]: record for record in records}


def card(page, name):
    return page.locator(".convention", has=page.locator(".file", has_text=name))


def field_row(section, label):
    return section.locator(".field", has=section.page.locator(".name", has_text=label))


def test_review_page_shows_the_evidence_of_a_doubtful_field(browser, reviewed):
    shot = browser.screenshot_review(reviewed / "review.html", reviewed / "review.png")
    evidence = records_of(reviewed)[shot.file]["evidence"]
    by_field = {key.replace("[", ".").replace("]", ""): entry for key, entry in evidence.items()}
    assert shot.highlighted == by_field[shot.key]["text"]
    assert (reviewed / "review.png").stat().st_size > 10_000


def test_the_header_counts_warnings_and_the_filter_keeps_a_convention_with_only_warnings(page, reviewed):
    page.goto((reviewed / "review.html").as_uri())
    assert page.locator("#totals").inner_text() == "5 conventions · 6 champs à vérifier · 5 avertissements"
    page.check("#only-doubtful")
    assert card(page, WARNED).is_visible()
    assert card(page, "001_d5590b72a4f07df0.txt").is_hidden()
    page.select_option("#warning-filter", label="date de signature laissée en blanc (1)")
    assert [name for name in page.locator(".convention:visible .file").all_inner_texts()] == [BLANK_DATE]


def test_conventions_and_fields_are_sorted_by_priority(page, reviewed):
    page.goto((reviewed / "review.html").as_uri())
    assert page.locator(".convention .file").first.inner_text() == BLANK_DATE
    section = card(page, BLANK_DATE)
    section.locator(".toggle").click()
    assert section.locator(".field .name").first.inner_text() == "Date de signature"
    page.select_option("#sort", "file")
    files = page.locator(".convention .file").all_inner_texts()
    assert files == sorted(files)


def test_a_value_corrected_on_the_page_is_in_the_dataset_after_the_next_run(page, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    for path in SAMPLES:
        shutil.copy(path, inbox)
    out = tmp_path / "out"
    run([inbox], out, OPTIONS)
    page.goto((out / "review.html").as_uri())

    blank = card(page, BLANK_DATE)
    blank.locator(".toggle").click()
    date_row = field_row(blank, "Date de signature")
    date_row.locator(".edit").click()
    date_row.locator("input").fill("31/07/2021")
    date_row.locator("input").press("Enter")
    assert "31/07/2021" in date_row.locator(".value").inner_text()

    initials = card(page, INITIALS)
    initials.locator(".toggle").click()
    field_row(initials, "Délégant · sigle").locator(".verify").click()
    signatory = field_row(initials, "Signataire n° 1")
    signatory.locator(".edit").click()
    signatory.locator("input").nth(2).fill("Directrice adjointe")
    signatory.locator(".save").click()
    assert page.locator("#export").inner_text() == "Exporter les corrections (3)"

    with page.expect_download() as download:
        page.click("#export")
    assert download.value.suggested_filename == "corrections.csv"
    download.value.save_as(inbox / "corrections.csv")

    summary = run([inbox], out, OPTIONS)
    assert summary.notices == []
    blank_record, initials_record = records_of(out)[BLANK_DATE], records_of(out)[INITIALS]
    assert blank_record["date_signature"] == "2021-07-31"
    assert "date de signature laissée en blanc" not in blank_record["warnings"]
    assert initials_record["signataires"][0]["fonction"] == "Directrice adjointe"
    assert initials_record["evidence"]["delegant.sigle"]["previous"] == "DGITM"
    assert initials_record["delegant"]["sigle"] == "DGITM"

    page.goto((out / "review.html").as_uri())
    initials = card(page, INITIALS)
    initials.locator(".toggle").click()
    assert field_row(initials, "Délégant · sigle").locator(".conf").inner_text() == "vérifié"
    assert field_row(initials, "Signataire n° 1").locator(".conf").inner_text() == "corrigé"
    assert "1 à vérifier" not in initials.locator(".badges").inner_text()


def test_an_export_keeps_the_corrections_read_before_and_adds_the_new_ones(page, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    for path in SAMPLES:
        shutil.copy(path, inbox)
    (inbox / "corrections.csv").write_text(
        f"fichier_source,champ,valeur\n{INITIALS},delegant.sigle,DGITM-MTE\nautre.pdf,Objet,gardé\n",
        encoding="utf-8",
    )
    run([inbox], tmp_path / "out", OPTIONS)
    page.goto((tmp_path / "out" / "review.html").as_uri())
    blank = card(page, BLANK_DATE)
    blank.locator(".toggle").click()
    field_row(blank, "Date de signature").locator(".verify").click()
    with page.expect_download() as download:
        page.click("#export")
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert text.splitlines() == [
        "fichier_source,champ,valeur",
        f"{INITIALS},delegant.sigle,DGITM-MTE",
        "autre.pdf,Objet,gardé",
        f"{BLANK_DATE},Date de signature,",
    ]
    assert "autre.pdf" in page.locator("#notices").inner_text()


def test_a_document_with_script_markup_cannot_break_the_page(page, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    for path in SAMPLES:
        if path != SAMPLES[2]:  # the hostile copy stands for it: the same convention is read once
            shutil.copy(path, inbox)
    text = (
        SAMPLES[2]
        .read_text(encoding="utf-8")
        .replace("Directeur général des infrastructures, des transports et de la mer,", f"{HOSTILE},", 1)
    )
    (inbox / "hostile.txt").write_text(text, encoding="utf-8")
    run([inbox], tmp_path / "out", OPTIONS)
    page.goto((tmp_path / "out" / "review.html").as_uri())
    assert page.locator(".convention").count() == len(SAMPLES)
    section = card(page, "hostile.txt")
    section.locator(".toggle").click()
    row = field_row(section, "Délégant · représentant · fonction")
    assert "<!--<script>" in row.locator(".value").inner_text()
    row.locator(".name").click()
    assert "</script>" in page.locator("#evidence pre").inner_text()
    assert page.locator("header h1").inner_text() == "Revue des conventions extraites"


def test_a_convention_that_cannot_be_drawn_breaks_only_its_own_card(page, reviewed, tmp_path):
    data = json.loads(
        (reviewed / "review.html")
        .read_text(encoding="utf-8")
        .split('type="application/json">')[1]
        .split("</script>")[0]
    )
    data["conventions"][1]["fields"] = None
    html = tmp_path / "review.html"
    html.write_text(review_html(data), encoding="utf-8")
    page.goto(html.as_uri())
    assert page.locator(".convention").count() == 5
    assert page.locator(".convention .broken").count() == 1
    assert "affichage impossible" in page.locator(".convention .broken").inner_text()
    assert page.locator(".convention .toggle").count() == 4


def test_the_parts_of_a_large_run_link_to_each_other_and_export_what_was_decided_in_any(
    page, tmp_path, monkeypatch
):
    import pipeline.dataset.review as review

    monkeypatch.setattr(review, "PART_SIZE", 2)
    out = tmp_path / "out"
    run(SAMPLES, out, OPTIONS)
    page.goto((out / "review.html").as_uri())
    assert "(partie 1 sur 3)" in page.locator("#totals").inner_text()
    page.click("#parts a:has-text('conventions 5 à 5')")
    assert "(partie 3 sur 3)" in page.locator("#totals").inner_text()
    blank = card(page, BLANK_DATE)
    blank.locator(".toggle").click()
    field_row(blank, "Date de signature").locator(".verify").click()
    page.click("#parts a:has-text('conventions 1 à 2')")
    assert page.locator("#export").inner_text() == "Exporter les corrections (1)"
    with page.expect_download() as download:
        page.click("#export")
    lines = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    assert lines == ["fichier_source,champ,valeur", f"{BLANK_DATE},Date de signature,"]
