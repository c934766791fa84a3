"""Command line: `python -m pipeline extract PATH... -o OUTDIR` and the other commands."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from pipeline.batch import run
from pipeline.dataset.corrections import CorrectionError
from pipeline.model import Limits, Options


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log each file as it is read.")
def cli(verbose: bool) -> None:
    """Turn conventions de délégation de gestion into an open dataset."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    "outdir",
    default="outputs",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder for the dataset.",
)
@click.option("-j", "--jobs", default=0, show_default="all cores", help="Files read in parallel.")
@click.option("--max-mb", default=60.0, show_default=True, help="Larger files are reported, not read.")
@click.option("--max-text-mb", default=10.0, show_default=True, help="Larger text files are reported.")
@click.option("--max-pages", default=200, show_default=True, help="Longer PDFs are reported, not read.")
@click.option("--max-seconds", default=600.0, show_default=True, help="Time bound for reading one file.")
@click.option(
    "--max-pixels",
    default=60_000_000,
    show_default=True,
    help="Largest page image, checked before rendering or decoding it.",
)
@click.option("--no-cache", is_flag=True, help="Read every file again, even unchanged.")
@click.option("--no-spacy", is_flag=True, help="Decide person names by rules only (faster start).")
@click.option(
    "--corrections",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Corrections to apply (fichier_source,champ,valeur); default: corrections.csv in an input folder.",
)
def extract(
    paths,
    outdir,
    jobs,
    max_mb,
    max_text_mb,
    max_pages,
    max_seconds,
    max_pixels,
    no_cache,
    no_spacy,
    corrections,
) -> None:
    """Read conventions (.txt, .pdf, images) from files or folders; write the dataset to OUTDIR."""
    limits = Limits(max_mb, max_text_mb, max_pages, max_seconds, max_pixels=max_pixels)
    options = Options(limits, jobs, not no_spacy, not no_cache, corrections)
    try:
        summary = run(list(paths), outdir, options)
    except CorrectionError as error:
        raise click.UsageError(str(error)) from None
    for error in summary.errors:
        click.echo(f"{error['fichier']}: {error['type_erreur']}: {error['message']}", err=True)
    for notice in summary.notices:
        click.echo(f"correction warning: {notice}", err=True)
    click.echo(summary.line)
    if not summary.records and not summary.errors:
        click.echo("no readable file (.txt, .pdf, .png, .jpg, .tif) found", err=True)
    sys.exit(1 if summary.errors or not summary.records else 0)


@cli.command()
@click.argument("outdir", default="outputs", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--instance",
    default="demo",
    show_default=True,
    help="www, demo, dev, or the root URL of another udata instance.",
)
@click.option("--dataset", "dataset_id", help="Update this dataset instead of the one published before.")
@click.option("--private", is_flag=True, help="Keep the dataset private (a draft only you see).")
@click.option("--dry-run", is_flag=True, help="Print each request instead of sending it.")
def publish(outdir: Path, instance: str, dataset_id: str | None, private: bool, dry_run: bool) -> None:
    """Create or update the dataset on data.gouv.fr from OUTDIR (API key: DATAGOUV_API_KEY)."""
    from pipeline.dataset.publish import PublishError, client_for
    from pipeline.dataset.publish import publish as send

    client = client_for(instance, dry_run, echo=click.echo)
    try:
        dataset = send(outdir, client, dataset_id, private)
    except PublishError as error:
        click.echo(f"publish failed: {error}", err=True)
        sys.exit(1)
    if not dry_run:
        click.echo(f"published: {client.root}/datasets/{dataset}/")


@cli.command()
@click.argument("outdir", default="outputs", type=click.Path(exists=True, file_okay=False, path_type=Path))
def review(outdir: Path) -> None:
    """Open OUTDIR/review.html in headless Chromium, show a doubtful field, save review.png."""
    from pipeline.dataset.browser import BrowserMissing, screenshot_review

    try:
        shot = screenshot_review(outdir / "review.html", outdir / "review.png")
    except BrowserMissing as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{shot.path}: {shot.field} of {shot.file}, evidence «{shot.highlighted}»")


@cli.command()
@click.option("--readme", default="README.md", type=click.Path(exists=True, path_type=Path))
def docs(readme: Path) -> None:
    """Regenerate the README's column reference from the Table Schemas."""
    from pipeline.dataset.docs import update_readme

    click.echo(f"{readme}: {'updated' if update_readme(readme) else 'up to date'}")


def main() -> None:
    cli(prog_name="python -m pipeline")
