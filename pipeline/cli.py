"""Command line: `conventions-extract extract PATH... -o OUTDIR` and the other commands."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import click

from pipeline import __version__
from pipeline.batch import Summary, counted, run
from pipeline.dataset.corrections import CorrectionError
from pipeline.dataset.sources import SourcesError
from pipeline.french import speak_french
from pipeline.model import Limits, Options
from pipeline.outdir import OutputError, OutputFolder, reason
from pipeline.read.files import shown as printable
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


QUIET = "N'afficher que les erreurs, une ligne par type d'erreur."
REPEATED = 3  # more files than this with one kind of error are told in one line

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
@click.option("-q", "--quiet", is_flag=True, help=QUIET)
@click.pass_context
def cli(context: click.Context, verbose: bool, quiet: bool) -> None:
    """Transformer des conventions de délégation de gestion (PDF, numérisations, textes) en jeu de
    données ouvert, prêt pour data.gouv.fr."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    context.obj = {"verbose": False, "quiet": quiet}
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
@click.option(
    "--sources",
    metavar="FICHIER",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Adresses de publication des actes (fichier_source,url_source) : chaque convention reçoit "
    "celle de son fichier dans la colonne url_source.",
)
@click.option("-v", "--verbose", is_flag=True, help="Détailler chaque convention : pages, avertissements.")
@click.option("-q", "--quiet", is_flag=True, help=QUIET)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Écrire le bilan en JSON sur la sortie standard, pour un script.",
)
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
    sources,
    verbose,
    quiet,
    as_json,
) -> None:
    """Lire des conventions (.txt, .pdf, images) dans des fichiers ou dossiers et écrire le jeu de
    données dans DOSSIER."""
    if verbose:
        be_verbose(settings)
    limits = Limits(
        max_mb, max_text_mb, max_pages, max_seconds, max_memory_mb=max_memory_mb, max_pixels=max_pixels
    )
    quiet = quiet or settings["quiet"]
    options = Options(
        limits, jobs, not no_spacy, not no_cache, corrections, cluster or None, cache_location, sources, quiet
    )
    started = time.monotonic()
    try:
        with interrupt_on_sigterm():
            summary = run(list(paths), outdir, options)
    except (CorrectionError, SourcesError, OutputError, ClusterUnavailable) as error:
        raise Refused(str(error)) from None
    except OSError as error:
        where = shown(error.filename) if error.filename else shown(outdir)
        raise WriteFailed(f"écriture impossible dans « {where} » : {reason(error)}") from None
    except KeyboardInterrupt:
        click.echo(f"interrompu : rien n'est changé dans « {shown(outdir)} »", err=True)
        sys.exit(EXIT_INTERRUPTED)
    tell_errors(summary, outdir, quiet)
    if not quiet:
        for notice in summary.notices:
            click.echo(f"correction non appliquée : {notice}", err=True)
    if settings["verbose"] and not quiet:
        describe(summary, outdir, time.monotonic() - started)
    if as_json:
        click.echo(json.dumps(run_summary(summary, outdir), ensure_ascii=False, indent=2))
    elif not quiet:
        click.echo(summary.line)
    if not summary.records and not summary.errors:
        click.echo("aucun fichier lisible (.txt, .pdf, .png, .jpg, .tif) trouvé", err=True)
    if summary.kept:
        click.echo(
            f"aucune convention lue : le jeu de données de « {shown(outdir)} » est laissé tel quel", err=True
        )
    sys.exit(EXIT_MISSED if summary.errors or not summary.records else EXIT_DONE)


def shown(path: Path | str) -> str:
    """A path as every line of output writes it: from the working folder when it is inside it,
    else from the root; bytes and characters a terminal cannot show escaped."""
    absolute = Path(os.path.abspath(path))
    try:
        return printable(absolute.relative_to(Path.cwd()))
    except ValueError:
        return printable(absolute)


def tell_errors(summary: Summary, outdir: Path, quiet: bool) -> None:
    """One line per file that was not read; a kind met on many files (or on any, with -q) in one
    line, its files listed in errors.csv."""
    kinds = Counter(error["type_erreur"] for error in summary.errors)
    listed = not summary.kept  # errors.csv is not written over a dataset kept as it was
    grouped = {kind for kind, count in kinds.items() if listed and (quiet or count > REPEATED)}
    for error in summary.errors:
        if error["type_erreur"] not in grouped:
            click.echo(f"{shown(error['fichier'])} : {error['type_erreur']} : {error['message']}", err=True)
    for kind in sorted(grouped):
        files = counted(kinds[kind], "fichier", "fichiers")
        click.echo(f"{kind} : {files}, détail dans {shown(outdir / 'errors.csv')}", err=True)


def run_summary(summary: Summary, outdir: Path) -> dict:
    """--json: what a script needs to know of the run."""
    return {
        "dossier": shown(outdir),
        "conventions_extraites": len(summary.records),
        "fichiers_non_extraits": len(summary.errors),
        "erreurs_par_type": dict(sorted(Counter(e["type_erreur"] for e in summary.errors).items())),
        "erreurs": [
            {"fichier": shown(e["fichier"]), "type_erreur": e["type_erreur"], "message": e["message"]}
            for e in summary.errors
        ],
        "corrections_non_appliquees": summary.notices,
        "jeu_laisse_tel_quel": summary.kept,
    }


def describe(summary: Summary, outdir: Path, seconds: float) -> None:
    """-v: each convention read, how, and what to check in it."""
    for record in summary.records:
        pages = record.get("pages") or []
        scanned = sum(page["method"] == "ocr" for page in pages)
        how = f"{len(pages)} page(s)" + (f", dont {scanned} par OCR" if scanned else "")
        warnings = record["warnings"]
        source = shown(summary.paths.get(record["id"], record["fichier_source"]))
        click.echo(f"{source} : {how}, {len(warnings)} avertissement(s)", err=True)
        for warning in warnings:
            click.echo(f"  - {warning}", err=True)
    click.echo(f"écrit dans {shown(outdir)}{os.sep} en {seconds:.1f} s".replace(".", ","), err=True)


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
    metavar="INSTANCE",
    show_default=True,
    help="www, demo, dev, un nom d'hôte (https) ou l'adresse d'une autre instance udata.",
)
@click.option(
    "--organisation",
    metavar="ORGANISATION",
    help="Identifiant ou nom court de l'organisation qui publie le jeu.",
)
@click.option(
    "--dataset",
    "dataset_id",
    metavar="IDENTIFIANT",
    help="Mettre à jour ce jeu de données plutôt que celui publié avant.",
)
@click.option("--private", is_flag=True, help="Créer le jeu en brouillon privé.")
@click.option("--force-metadata", is_flag=True, help="Remplacer aussi les métadonnées éditées sur le site.")
@click.option(
    "--frequence",
    "frequency",
    type=click.Choice(list(FREQUENCIES)),
    default="irreguliere",
    show_default=True,
    metavar="FRÉQUENCE",
    help=f"Fréquence de mise à jour annoncée : {', '.join(FREQUENCIES)}.",
)
@click.option(
    "--contact",
    metavar="ADRESSE",
    help="Adresse électronique ou page web où joindre le producteur, écrite dans la description.",
)
@click.option(
    "--schema-catalogue",
    "catalogue",
    metavar="PROPRIÉTAIRE",
    help="Une fois le schéma listé sur schema.data.gouv.fr : le propriétaire de son dépôt (ex. etalab) ; "
    "chaque CSV désigne alors son schéma par son nom au catalogue (PROPRIÉTAIRE/nom) et sa version, "
    "sinon par l'adresse du schéma envoyé avec lui.",
)
@click.option("--envoyer", "send_it", is_flag=True, help="Publier vraiment ; sans lui, rien n'est envoyé.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Écrire le plan, ou ce qui a été publié, en JSON sur la sortie standard, pour un script.",
)
def publish(
    outdir: Path,
    instance: str,
    organisation: str | None,
    dataset_id: str | None,
    private: bool,
    force_metadata: bool,
    frequency: str,
    contact: str | None,
    catalogue: str | None,
    send_it: bool,
    as_json: bool,
) -> None:
    """Montrer ce que la publication sur data.gouv.fr créerait ou changerait à partir de DOSSIER ;
    avec --envoyer, le publier (clé API : DATAGOUV_API_KEY)."""
    from pipeline.dataset.publish import (
        Api,
        PublishError,
        api_key,
        describe,
        instance_root,
        make_plan,
        plan_data,
        read_states,
    )
    from pipeline.dataset.publish import publish as send

    try:
        root = instance_root(instance)
        plan = make_plan(
            outdir,
            root,
            dataset_id,
            organisation,
            private,
            force_metadata,
            FREQUENCIES[frequency],
            contact,
            catalogue,
        )
        if not send_it:
            if as_json:
                click.echo(json.dumps(plan_data(plan), ensure_ascii=False, indent=2))
                return
            click.echo("Simulation : rien n'est envoyé (--envoyer pour publier).")
            click.echo("\n".join(describe(plan)))
            return
        echo = (lambda line: click.echo(line, err=True)) if as_json else click.echo
        with OutputFolder(outdir):  # no extraction swaps the folder while it is being published
            dataset = send(outdir, plan, Api(root, api_key(), echo=echo))
    except OutputError as error:
        raise Refused(str(error)) from None
    except PublishError as error:
        click.echo(f"publication échouée : {error}", err=True)
        sys.exit(1)
    if as_json:
        published = {
            "instance": root,
            "jeu_de_donnees": dataset,
            "adresse": f"{root}/datasets/{dataset}/",
            "ressources": read_states(outdir)[root]["resources"],
        }
        click.echo(json.dumps(published, ensure_ascii=False, indent=2))
        return
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
    "--readme",
    default="README.md",
    show_default=True,
    metavar="FICHIER",
    type=click.Path(exists=True, path_type=Path),
    help="Le README dont la section des colonnes est régénérée.",
)
def docs(readme: Path) -> None:
    """Regénérer la référence des colonnes du README, de schema/README.md et du README de chaque
    table à partir des Table Schemas."""
    from pipeline.dataset.docs import documents, update_readme

    for path, tables in documents(readme):
        click.echo(f"{path} : {'mis à jour' if update_readme(path, tables) else 'déjà à jour'}")


def main() -> None:
    """`conventions-extract`, or `python -m pipeline`: the same commands."""
    installed = Path(sys.argv[0]).name == "conventions-extract"
    cli(prog_name="conventions-extract" if installed else "python -m pipeline")
