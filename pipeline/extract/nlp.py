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
            "modèle spaCy %s indisponible (%s) : noms reconnus par les règles seules", MODEL, error
        )
        return None


class LazyModel:
    """Calls the model, loading it on first use: a run whose files all come from the cache, or
    whose names all follow the rules, never pays for loading it."""

    def __call__(self, text: str):
        model = load_nlp()
        return model(text) if model else None


@cache
def person_by_model(nlp, text: str) -> bool:
    """Whether the model reads the text as a person's name (the same names recur across files)."""
    parsed = nlp(text)
    return parsed is None or any(ent.label_ == "PER" for ent in parsed.ents)
