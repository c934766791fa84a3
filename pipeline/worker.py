"""What each worker process does: keep the patterns it is given, load the model at most once,
then read files."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.dataset.review import excerpts
from pipeline.dataset.tables import convention_id
from pipeline.errors import NotAConvention, ReadError
from pipeline.extract.nlp import LazyModel
from pipeline.extract.record import extract_document
from pipeline.model import Options, Outcome
from pipeline.patterns import Patterns
from pipeline.read import read_file
from pipeline.read.crops import page_crops

log = logging.getLogger(__name__)


class Worker:
    """What one process keeps for all its files: the options, the patterns and the spaCy model."""

    patterns: Patterns | None = None
    nlp = None
    options = Options()


def start_worker(options: Options, patterns: Patterns) -> None:
    Worker.options = options
    Worker.patterns = patterns
    Worker.nlp = LazyModel() if options.use_spacy else None


def process(path: Path) -> Outcome:
    try:
        doc = read_file(path, Worker.options.limits)
        record = extract_document(doc, Worker.patterns, Worker.nlp)
    except ReadError as error:
        return failed(path, error.kind, error)
    except NotAConvention as error:
        return failed(path, "not_a_convention", error)
    except Exception as error:  # one bad file must never stop the batch
        log.exception("unexpected error on %s", path)
        return failed(path, "internal_error", f"{type(error).__name__}: {error}")
    record = {"id": convention_id(doc.text), **record}
    spans = [(e["start"], e["end"]) for e in record["evidence"].values()]
    context = excerpts(doc.text, spans, Worker.patterns["review"]["context_chars"])
    return Outcome(str(path), record=record, excerpts=context, crops=page_crops(doc, record["evidence"]))


def failed(path: Path, kind: str, error: object) -> Outcome:
    message = " ".join(str(error).split()) or kind
    return Outcome(str(path), error={"fichier": str(path), "type_erreur": kind, "message": message})
