"""Command line: `conventions-extract extract PATH... -o OUTDIR` and the other commands."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import click

from pipeline import __version__
from pipeline.batch import Summary, run
from pipeline.dataset.corrections import CorrectionError
from pipeline.french import speak_french
from pipeline.model import Limits, Options
from pipeline.outdir import OutputError, OutputFolder, reason
from pipeline.read.files import shown
from pipeline.units import ClusterUnavailable

speak_french()  # before the commands below are declared: their help is built as they are

# data.gouv.fr's update frequencies, as the officer names them.
FREQUENCIES = {
    "irreguliere": "irregular",
    "ponctuelle": "punctual",
    "annuelle": "annual",
    "semestrielle": "semiannual",
    "trimestrielle": "quarterly",
    "mensuelle": "monthly",
    "inconnue": "unknown",
}


# What `extract` exits with: every file extracted; some not (or none readable); a command that
# cannot start as written; outputs that could not be written (disk full, read-only cache…);
# stopped by Ctrl-C or SIGTERM, the output folder left as it was.
EXIT_DONE, EXIT_MISSED, EXIT_USAGE, EXIT_IO, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class Refused(click.ClickException):
    """A command that cannot start as written: one line, exit status 2, like a usage error."""

    exit_code = EXIT_USAGE


class WriteFailed(click.ClickException):
    """Outputs or the cache that could not be written: one line, exit status 3."""

    exit_code = EXIT_IO


@contextlib.contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """SIGTERM (a service stopped, a job killed by its scheduler) stops the run as Ctrl-C does:
    the workers ended, the output folder left as it was, one line said."""

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():  # only there may signals be handled
        yield
        return
    before = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]}, subcommand_metavar="COMMANDE [ARGUMENTS]..."
)
@click.version_option(
    __version__, "-V", "--version", message="%(prog)s %(version)s", help="Afficher la version et quitter."
)
@click.option("-v", "--verbose", is_flag=True, help="Détailler chaque convention : pages, avertissements.")
@click.pass_context
def cli(context: click.Context, verbose: bool) -> None:
    """Transformer des conventions de délégation de gestion (PDF, numérisations, textes) en jeu de
    données ouvert, prêt pour data.gouv.fr."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    context.obj = {"verbose": False}
    if verbose:
        be_verbose(context.obj)


def be_verbose(settings: dict) -> None:
    settings["verbose"] = True
    logging.getLogger("pipeline").setLevel(logging.INFO)


@cli.command(
    epilog="Code de sortie : 0 chaque fichier extrait ; 1 des fichiers non extraits (ou aucun lisible) ; "
    "2 commande refusée ; 3 écriture impossible (disque plein, cache en lecture seule…) ; "
    "130 interrompu (Ctrl-C, SIGTERM)."
)
@click.argument(
    "paths", nargs=-1, required=True, metavar="CHEMIN...", type=click.Path(exists=True, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    "outdir",
    default="outputs",
    show_default=True,
    metavar="DOSSIER",
    type=click.Path(path_type=Path),
    help="Dossier où écrire le jeu de données.",
)
@click.option(
    "-j", "--jobs", default=0, metavar="N", show_default="tous les cœurs", help="Fichiers lus en parallèle."
)
@click.option(
    "--max-mb",
    default=60,
    type=float,
    metavar="Mo",
    show_default=True,
    help="Au-delà, le fichier est signalé, pas lu.",
)
@click.option(
    "--max-text-mb",
    default=10,
    type=float,
    metavar="Mo",
    show_default=True,
    help="Limite des fichiers texte.",
)
@click.option(
    "--max-pages", default=200, metavar="N", show_default=True, help="Au-delà, le PDF est signalé, pas lu."
)
@click.option(
    "--max-seconds",
    default=600,
    type=float,
    metavar="S",
    show_default=True,
    help="Temps maximal de lecture d'un fichier.",
)
@click.option(
    "--max-memory-mb",
    default=2048,
    type=float,
    metavar="Mo",
    show_default=True,
    help="Mémoire de chaque processus de lecture (0 : sans limite) ; au-delà, le fichier est signalé.",
)
@click.option("--no-cache", is_flag=True, help="Relire chaque fichier, même inchangé.")
@click.option(
    "--cache",
    "cache_location",
    metavar="DOSSIER|URL",
    help="Cache des fichiers déjà lus : un dossier (partagé par les machines d'une grappe) ou une "
    "URL fsspec (s3://…) ; par défaut DOSSIER/.cache.",
)
@click.option(
    "--cluster",
    envvar="DASK_SCHEDULER_ADDRESS",
    metavar="ADRESSE",
    help="Adresse d'un planificateur Dask (tcp://machine:8786) : les fichiers et les pages sont lus "
    "par ses workers. Variable d'environnement : DASK_SCHEDULER_ADDRESS.",
)
@click.option(
    "--no-spacy", is_flag=True, help="Reconnaître les noms par les règles seules (démarrage rapide)."
)
@click.option(
    "--max-pixels",
    default=60_000_000,
    metavar="N",
    show_default=True,
    help="Plus grande image de page, vérifiée avant de la décoder ou de la dessiner.",
)
@click.option(
    "--corrections",
    metavar="FICHIER",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Corrections à appliquer (fichier_source,champ,valeur) ; par défaut corrections.csv "
    "à la racine d'un dossier lu.",
)
@click.option("-v", "--verbose", is_flag=True, help="Détailler chaque convention : pages, avertissements.")
@click.pass_obj
def extract(
    settings,
    paths,
    outdir,
    jobs,
    max_mb,
    max_text_mb,
    max_pages,
    max_seconds,
    max_memory_mb,
    max_pixels,
    no_cache,
    cache_location,
    cluster,
    no_spacy,
    corrections,
    verbose,
) -> None:
    """Lire des conventions (.txt, .pdf, images) dans des fichiers ou dossiers et écrire le jeu de
    données dans DOSSIER."""
    if verbose:
        be_verbose(settings)
    limits = Limits(
        max_mb, max_text_mb, max_pages, max_seconds, max_memory_mb=max_memory_mb, max_pixels=max_pixels
    )
    options = Options(limits, jobs, not no_spacy, not no_cache, corrections, cluster or None, cache_location)
    started = time.monotonic()
    try:
        with interrupt_on_sigterm():
            summary = run(list(paths), outdir, options)
    except (CorrectionError, OutputError, ClusterUnavailable) as error:
        raise Refused(str(error)) from None
    except OSError as error:
        where = shown(error.filename) if error.filename else outdir
        raise WriteFailed(f"écriture impossible dans « {where} » : {reason(error)}") from None
    except KeyboardInterrupt:
        click.echo(f"interrompu : rien n'est changé dans « {outdir} »", err=True)
        sys.exit(EXIT_INTERRUPTED)
    for error in summary.errors:
        click.echo(f"{error['fichier']} : {error['type_erreur']} : {error['message']}", err=True)
    for notice in summary.notices:
        click.echo(f"correction non appliquée : {notice}", err=True)
    if settings["verbose"]:
        describe(summary, outdir, time.monotonic() - started)
    click.echo(summary.line)
    if not summary.records and not summary.errors:
        click.echo("aucun fichier lisible (.txt, .pdf, .png, .jpg, .tif) trouvé", err=True)
    if summary.kept:
        click.echo(f"aucune convention lue : le jeu de données de « {outdir} » est laissé tel quel", err=True)
    sys.exit(EXIT_MISSED if summary.errors or not summary.records else EXIT_DONE)


def describe(summary: Summary, outdir: Path, seconds: float) -> None:
    """-v: each convention read, how, and what to check in it."""
    for record in summary.records:
        pages = record.get("pages") or []
        scanned = sum(page["method"] == "ocr" for page in pages)
        how = f"{len(pages)} page(s)" + (f", dont {scanned} par OCR" if scanned else "")
        warnings = record["warnings"]
        click.echo(f"{record['fichier_source']} : {how}, {len(warnings)} avertissement(s)", err=True)
        for warning in warnings:
            click.echo(f"  - {warning}", err=True)
    click.echo(f"écrit dans {outdir}{os.sep} en {seconds:.1f} s".replace(".", ","), err=True)


@cli.command()
@click.argument(
    "outdir",
    default="outputs",
    metavar="DOSSIER",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option(
    "--instance",
    default="demo",
    show_default=True,
    help="www, demo, dev, un nom d'hôte (https) ou l'adresse d'une autre instance udata.",
)
@click.option("--organisation", help="Identifiant ou nom court de l'organisation qui publie le jeu.")
@click.option(
    "--dataset", "dataset_id", help="Mettre à jour ce jeu de données plutôt que celui publié avant."
)
@click.option("--private", is_flag=True, help="Créer le jeu en brouillon privé.")
@click.option("--force-metadata", is_flag=True, help="Remplacer aussi les métadonnées éditées sur le site.")
@click.option(
    "--frequence",
    "frequency",
    type=click.Choice(list(FREQUENCIES)),
    default="irreguliere",
    show_default=True,
    help="Fréquence de mise à jour annoncée.",
)
@click.option("--envoyer", "send_it", is_flag=True, help="Publier vraiment ; sans lui, rien n'est envoyé.")
def publish(
    outdir: Path,
    instance: str,
    organisation: str | None,
    dataset_id: str | None,
    private: bool,
    force_metadata: bool,
    frequency: str,
    send_it: bool,
) -> None:
    """Montrer ce que la publication sur data.gouv.fr créerait ou changerait à partir de OUTDIR ;
    avec --envoyer, le publier (clé API : DATAGOUV_API_KEY)."""
    from pipeline.dataset.publish import Api, PublishError, api_key, describe, instance_root, make_plan
    from pipeline.dataset.publish import publish as send

    try:
        root = instance_root(instance)
        plan = make_plan(
            outdir, root, dataset_id, organisation, private, force_metadata, FREQUENCIES[frequency]
        )
        if not send_it:
            click.echo("Simulation : rien n'est envoyé (--envoyer pour publier).")
            click.echo("\n".join(describe(plan)))
            return
        with OutputFolder(outdir):  # no extraction swaps the folder while it is being published
            dataset = send(outdir, plan, Api(root, api_key(), echo=click.echo))
    except OutputError as error:
        raise Refused(str(error)) from None
    except PublishError as error:
        click.echo(f"publication échouée : {error}", err=True)
        sys.exit(1)
    click.echo(f"publié : {root}/datasets/{dataset}/")


@cli.command()
@click.argument(
    "outdir",
    default="outputs",
    metavar="DOSSIER",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
def review(outdir: Path) -> None:
    """Ouvrir DOSSIER/review.html dans Chromium sans fenêtre, montrer un champ à vérifier et
    enregistrer la vue dans review.png."""
    from pipeline.dataset.browser import BrowserMissing, screenshot_review

    try:
        shot = screenshot_review(outdir / "review.html", outdir / "review.png")
    except BrowserMissing as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{shot.path} : {shot.field} de {shot.file}, passage « {shot.highlighted} »")


@cli.command()
@click.option(
    "--readme", default="README.md", metavar="FICHIER", type=click.Path(exists=True, path_type=Path)
)
def docs(readme: Path) -> None:
    """Regénérer la référence des colonnes du README et de schema/README.md à partir des Table Schemas."""
    from pipeline.dataset.docs import SCHEMA_README, update_readme

    for path in (readme, SCHEMA_README):
        click.echo(f"{path} : {'mis à jour' if update_readme(path) else 'déjà à jour'}")


def main() -> None:
    """`conventions-extract`, or `python -m pipeline`: the same commands."""
    installed = Path(sys.argv[0]).name == "conventions-extract"
    cli(prog_name="conventions-extract" if installed else "python -m pipeline")
