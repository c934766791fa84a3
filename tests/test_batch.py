"""A batch gives one record or one error line per file, and goes on after a bad one."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from conftest import ROOT, SAMPLES

from pipeline.batch import Options, run

NOVEL = "Il était une fois, dans une ville de province, un homme qui aimait les livres. " * 20
INVOICE = "FACTURE n° 2021-044\nDésignation\tQuantité\tPrix\nPapier A4\t10\t45,00 €\nTotal TTC\t54,00 €\n"


def errors_of(outdir):
    with open(outdir / "errors.csv", encoding="utf-8-sig") as handle:
        return {row["fichier"].rsplit("/", 1)[-1]: row for row in csv.DictReader(handle)}


def test_texts_that_are_not_conventions_give_an_error_and_no_record(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "roman.txt").write_text(NOVEL, encoding="utf-8")
    (inbox / "facture.txt").write_text(INVOICE, encoding="utf-8")
    shutil.copy(SAMPLES[0], inbox)
    summary = run([inbox], tmp_path / "out", Options(jobs=1, use_spacy=False))
    records = json.loads((tmp_path / "out" / "conventions.json").read_text())
    assert [r["fichier_source"] for r in records] == [SAMPLES[0].name]
    errors = errors_of(tmp_path / "out")
    assert errors["roman.txt"]["type_erreur"] == "pas_une_convention"
    assert errors["facture.txt"]["type_erreur"] == "pas_une_convention"
    assert summary.line.startswith("1 convention extraite, 2 fichiers non extraits")


def test_empty_and_binary_files_are_reported(tmp_path):
    (tmp_path / "vide.txt").write_bytes(b"")
    (tmp_path / "binaire.txt").write_bytes(bytes(range(256)) * 40)
    run([tmp_path], tmp_path / "out", Options(jobs=1, use_spacy=False))
    errors = errors_of(tmp_path / "out")
    assert errors["vide.txt"]["type_erreur"] == "fichier_vide"
    assert errors["binaire.txt"]["type_erreur"] == "texte_illisible"


def test_windows_1252_text_is_read_with_its_accents(tmp_path):
    text = SAMPLES[3].read_text(encoding="utf-8")
    (tmp_path / "ancien.txt").write_bytes(text.encode("cp1252", errors="replace"))
    run([tmp_path / "ancien.txt"], tmp_path / "out", Options(jobs=1, use_spacy=False))
    record = json.loads((tmp_path / "out" / "conventions.json").read_text())[0]
    assert record["delegant"]["nom"] == "Délégation générale à l'emploi et à la formation professionnelle"


def test_a_convention_under_two_names_is_counted_once(tmp_path):
    shutil.copy(SAMPLES[1], tmp_path / "a.txt")
    shutil.copy(SAMPLES[1], tmp_path / "b.txt")
    summary = run([tmp_path], tmp_path / "out", Options(jobs=1, use_spacy=False))
    assert len(summary.records) == 1
    assert errors_of(tmp_path / "out")["b.txt"]["type_erreur"] == "doublon"


def test_a_huge_text_is_refused_quickly(tmp_path):
    (tmp_path / "enorme.txt").write_bytes(b"convention " * 5_000_000)
    summary = run([tmp_path], tmp_path / "out", Options(jobs=1, use_spacy=False))
    assert summary.records == []
    assert errors_of(tmp_path / "out")["enorme.txt"]["type_erreur"] == "trop_volumineux"


def test_latin_1_text_is_read_with_its_accents(tmp_path):
    text = SAMPLES[2].read_text(encoding="utf-8").replace("’", "'").replace("–", "-").replace("œ", "oe")
    (tmp_path / "latin1.txt").write_bytes(text.encode("latin-1", errors="replace"))
    summary = run([tmp_path], tmp_path / "out", Options(jobs=1, use_spacy=False))
    expected = "Direction générale des infrastructures, des transports et de la mer"
    assert summary.records[0]["delegant"]["nom"] == expected


def test_a_text_saved_again_with_the_wrong_encoding_is_put_back_and_warned(tmp_path):
    text = SAMPLES[2].read_text(encoding="utf-8")
    mangled = text.encode("utf-8").decode("cp1252", errors="replace")
    (tmp_path / "mojibake.txt").write_text(mangled, encoding="utf-8")
    summary = run([tmp_path / "mojibake.txt"], tmp_path / "out", Options(jobs=1, use_spacy=False))
    record = summary.records[0]
    assert record["delegant"]["nom"] == "Direction générale des infrastructures, des transports et de la mer"
    assert any(warning.startswith("texte réparé") for warning in record["warnings"])


def test_cli_exit_status_says_whether_every_file_gave_a_record(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    good = tmp_path / "good"
    good.mkdir()
    shutil.copy(SAMPLES[0], good)
    runner = CliRunner()
    assert runner.invoke(cli, ["extract", str(good), "-o", str(tmp_path / "o1"), "--no-spacy"]).exit_code == 0
    (good / "vide.txt").write_bytes(b"")
    failed = runner.invoke(cli, ["extract", str(good), "-o", str(tmp_path / "o2"), "--no-spacy"])
    assert failed.exit_code == 1
    assert "1 convention extraite, 1 fichier non extrait (fichier_vide : 1)" in failed.output
    assert runner.invoke(cli, ["extract", str(tmp_path / "absent")]).exit_code == 2


def test_a_folder_with_no_readable_file_says_so(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    (tmp_path / "notes.docx").write_bytes(b"PK")
    result = CliRunner().invoke(cli, ["extract", str(tmp_path), "-o", str(tmp_path / "out"), "--no-spacy"])
    assert result.exit_code == 1
    assert "aucun fichier lisible" in result.output


def test_a_rerun_on_unchanged_files_reads_them_from_the_cache(tmp_path, monkeypatch):
    import pipeline.worker

    options = Options(jobs=1, use_spacy=False, use_cache=True)
    first = run(SAMPLES, tmp_path, options)

    def no_reading(path):
        raise AssertionError(f"{path} read again")

    monkeypatch.setattr(pipeline.worker, "process", no_reading)
    again = run(SAMPLES, tmp_path, options)
    assert again.records == first.records


def test_a_rerun_writes_again_an_output_edited_or_deleted_since(tmp_path):
    options = Options(jobs=1, use_spacy=False, use_cache=True)
    run(SAMPLES, tmp_path, options)
    written = (tmp_path / "conventions.csv").read_text(encoding="utf-8")
    (tmp_path / "conventions.csv").write_text("edited by hand\n", encoding="utf-8")
    (tmp_path / "montants.csv").unlink()
    run(SAMPLES, tmp_path, options)
    assert (tmp_path / "conventions.csv").read_text(encoding="utf-8") == written
    assert (tmp_path / "montants.csv").exists()


def test_a_changed_file_is_read_again_despite_the_cache(tmp_path):
    shutil.copy(SAMPLES[0], tmp_path / "a.txt")
    options = Options(jobs=1, use_spacy=False, use_cache=True)
    run([tmp_path / "a.txt"], tmp_path / "out", options)
    text = (tmp_path / "a.txt").read_text(encoding="utf-8").replace("215 000 €", "216 000 €")
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    assert run([tmp_path / "a.txt"], tmp_path / "out", options).records[0]["montant_total"] == 216000


def test_parallel_jobs_give_the_same_records_as_one(tmp_path):
    one = run(SAMPLES, tmp_path / "one", Options(jobs=1, use_spacy=False))
    two = run(SAMPLES, tmp_path / "two", Options(jobs=2, use_spacy=False))
    assert two.records == one.records


@pytest.mark.slow
def test_a_run_killed_midway_leaves_the_previous_outputs_intact(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    run(SAMPLES, out, Options(jobs=1, use_spacy=False))
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    inbox = tmp_path / "in"
    inbox.mkdir()
    for index in range(400):
        text = SAMPLES[index % 5].read_text(encoding="utf-8")
        (inbox / f"c{index}.txt").write_text(f"{text}\nRéférence {index}\n", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "extract", str(inbox), "-o", str(out), "-j", "1", "--no-spacy"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    line = process.stderr.readline()  # the first tenth is done: the run is midway
    assert line.startswith("extraction : 40/400")
    time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before


def test_outputs_are_readable_by_others_as_plain_files_would_be(tmp_path):
    import os

    run(SAMPLES[:1], tmp_path, Options(jobs=1, use_spacy=False))
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "conventions.csv").stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_text_is_read_with_or_without_its_byte_order_mark(tmp_path, encoding):
    text = SAMPLES[3].read_text(encoding="utf-8").replace("\n", "\r\n")
    (tmp_path / "unicode.txt").write_bytes(text.encode(encoding))
    summary = run([tmp_path / "unicode.txt"], tmp_path / "out", Options(jobs=1, use_spacy=False))
    record = summary.records[0]
    assert record["delegant"]["nom"] == "Délégation générale à l'emploi et à la formation professionnelle"


def test_a_named_pipe_in_the_input_folder_is_reported_and_never_waited_on(tmp_path):
    import os
    import subprocess
    import sys

    inbox = tmp_path / "in"
    inbox.mkdir()
    shutil.copy(SAMPLES[0], inbox)
    os.mkfifo(inbox / "tube.txt")
    command = [
        sys.executable,
        "-m",
        "pipeline",
        "extract",
        str(inbox),
        "-o",
        str(tmp_path / "out"),
        "--no-spacy",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    error = errors_of(tmp_path / "out")["tube.txt"]
    assert (error["type_erreur"], error["message"]) == (
        "pas_un_fichier_ordinaire",
        "un tube nommé (FIFO), pas un fichier ordinaire : non lu",
    )
    assert len(json.loads((tmp_path / "out" / "conventions.json").read_text())) == 1


def test_symbolic_links_that_loop_are_reported_and_linked_folders_read_once(tmp_path):
    inbox = tmp_path / "in"
    (inbox / "sous").mkdir(parents=True)
    shutil.copy(SAMPLES[0], inbox / "sous")
    (inbox / "sous" / "retour").symlink_to(inbox)
    (inbox / "raccourci").symlink_to(inbox / "sous")
    (inbox / "boucle.txt").symlink_to(inbox / "boucle.txt")
    (inbox / "perdu.pdf").symlink_to(tmp_path / "absent.pdf")
    summary = run([inbox], tmp_path / "out", Options(jobs=1, use_spacy=False))
    assert len(summary.records) == 1
    errors = errors_of(tmp_path / "out")
    assert errors["retour"]["type_erreur"] == "lien_en_boucle"
    assert (
        errors["retour"]["message"]
        == f"lien symbolique en boucle : il ramène au dossier « {inbox} », déjà parcouru"
    )
    assert errors["boucle.txt"]["type_erreur"] == "lien_en_boucle"
    assert errors["perdu.pdf"]["type_erreur"] == "lien_casse"
    assert len(errors) == 3


def huge_page_pdf(path) -> None:
    """1.3 kB of PDF: one page of 14,400 × 14,400 points, 3.6 gigapixels at 300 dpi, holding a
    drawing (a blank page has nothing to render)."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=(14400, 14400))
    pdf.rect(720, 720, 7200, 7200)
    pdf.showPage()
    pdf.save()


@pytest.mark.slow
def test_files_that_blow_up_in_memory_are_error_lines_and_the_run_stays_small(tmp_path):
    import subprocess
    import sys

    inbox = tmp_path / "in"
    inbox.mkdir()
    for index in range(3):
        huge_page_pdf(inbox / f"immense{index}.pdf")
    shutil.copy(SAMPLES[0], inbox)
    peak = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    command = [sys.executable, "-c", peak, sys.executable, "-m", "pipeline", "extract", str(inbox)]
    command += ["-o", str(tmp_path / "out"), "-j", "2", "--no-spacy", "--max-memory-mb", "1024"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert int(done.stdout.split()[-1]) < 1.5 * 2**20  # kB: no process went past 1.5 GB
    errors = errors_of(tmp_path / "out")
    assert len(errors) == 3
    for index in range(3):
        error = errors[f"immense{index}.pdf"]
        assert error["type_erreur"] in ("memoire_depassee", "trop_volumineux"), error
        assert "limite" in error["message"]
    assert len(json.loads((tmp_path / "out" / "conventions.json").read_text())) == 1


def data_mb() -> float:
    """What RLIMIT_DATA counts for this process now, in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmData:"))
    return int(line.split()[1]) / 1024


def test_the_memory_cap_turns_an_allocation_past_it_into_an_error_line(monkeypatch):
    import pipeline.worker
    from pipeline.model import Limits
    from pipeline.patterns import load_patterns

    def greedy(path, limits):
        return bytearray(600 * 2**20)

    monkeypatch.setattr(pipeline.worker, "read_file", greedy)
    cap = round(data_mb() + 300)
    pipeline.worker.start_worker(Options(limits=Limits(max_memory_mb=cap), use_spacy=False), load_patterns())
    with pipeline.worker.memory_capped(cap):
        outcome = pipeline.worker.process(SAMPLES[0])
    assert outcome.error["type_erreur"] == "memoire_depassee"
    assert outcome.error["message"] == (
        f"la lecture demandait plus de mémoire que la limite de {cap} Mo par processus (--max-memory-mb)"
    )
    assert len(bytearray(600 * 2**20)) > 0  # the cap is lifted after the run


def numbered_conventions(folder, count: int) -> None:
    """Conventions told apart by their NOR, else copies of five read once each."""
    folder.mkdir()
    for index in range(count):
        text = SAMPLES[index % 5].read_text(encoding="utf-8")
        (folder / f"c{index:03d}.txt").write_text(f"NOR : TEST{index:07d}X\n{text}", encoding="utf-8")


@pytest.mark.slow
def test_a_worker_killed_mid_run_costs_nothing(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from pipeline.worker import children

    numbered_conventions(tmp_path / "in", 200)
    command = [sys.executable, "-m", "pipeline", "extract", str(tmp_path / "in"), "-o", str(tmp_path / "out")]
    process = subprocess.Popen(
        [*command, "-j", "2", "--no-spacy"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stderr.readline().startswith("extraction : 20/200")
    os.kill(children(process.pid)[0], signal.SIGKILL)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert len(json.loads((tmp_path / "out" / "conventions.json").read_text())) == 200


def crashing_begin(path, key=None, split=False):
    """A file that kills the process reading it, as a crash in a library would."""
    import os
    import signal

    from pipeline.worker import begin

    if "plante" in str(path):
        os.kill(os.getpid(), signal.SIGKILL)
    return begin(path, key, split)


def test_a_file_that_kills_its_worker_is_an_error_line_and_the_others_are_read(tmp_path, monkeypatch):
    import pipeline.worker

    monkeypatch.setitem(pipeline.worker.UNITS, "begin", crashing_begin)
    numbered_conventions(tmp_path / "in", 12)
    shutil.copy(SAMPLES[0], tmp_path / "in" / "plante.txt")
    summary = run([tmp_path / "in"], tmp_path / "out", Options(jobs=2, use_spacy=False))
    assert len(summary.records) == 12
    error = errors_of(tmp_path / "out")["plante.txt"]
    assert error["type_erreur"] == "processus_perdu"
    assert error["message"].startswith("le processus qui lisait ce fichier s'est arrêté net, deux fois")


def test_control_characters_in_a_text_become_spaces_and_a_warning(tmp_path):
    text = SAMPLES[0].read_text(encoding="utf-8").replace("Convention de", "Convention\x01de", 1)
    (tmp_path / "controle.txt").write_text(text, encoding="utf-8")
    summary = run([tmp_path / "controle.txt"], tmp_path / "out", Options(jobs=1, use_spacy=False))
    record = summary.records[0]
    assert "\x01" not in json.dumps(record, ensure_ascii=False)
    assert "1 caractère(s) de contrôle remplacé(s) par des espaces" in record["warnings"]
    assert (tmp_path / "out" / "conventions.xlsx").stat().st_size > 0


@pytest.mark.parametrize(
    ("jobs", "files", "cores", "side"),
    [
        (2, 100, 2, 0),  # every core reads files: the check and the workbook wait
        (0, 100, 4, 0),  # 0 jobs: all the cores
        (2, 100, 8, 2),
        (3, 100, 4, 1),
        (1, 100, 2, 0),  # one job: the run stays in one process
        (4, 1, 4, 0),  # one file is read by one process
    ],
)
def test_the_check_and_workbook_start_early_only_on_cores_the_reading_leaves_free(jobs, files, cores, side):
    from pipeline.batch import side_processes

    assert side_processes(Options(jobs=jobs), files, cores) == side
