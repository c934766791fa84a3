"""The spaCy model, loaded once per process and only for what rules cannot decide."""

from __future__ import annotations

import logging
from functools import cache

MODEL = "fr_core_news_sm"
# Only named entities are used: the other components cost time and give nothing here.
UNUSED = ["parser", "lemmatizer", "morphologizer", "attribute_ruler", "senter"]


@cache
def load_nlp():
    """The French model, or None (with a log line) when spaCy or the model is missing."""
    try:
        import spacy

        return spacy.load(MODEL, exclude=UNUSED)
    except (ImportError, OSError) as error:
        logging.getLogger(__name__).warning(
            "spaCy model %s not available (%s): names by rules only", MODEL, error
        )
        return None
