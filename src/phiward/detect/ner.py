"""Optional spaCy NER tier (``pip install 'phiward[ner]'`` plus a spaCy English model package).

Off by default: the pattern and dictionary tiers are fast and explainable; a statistical model
adds recall on free-text names and places at a large cost in speed. The model is loaded offline
only, from an installed package (``spacy.load`` of a package name, never a download); when spaCy
or the model is missing, :func:`load_ner` raises :class:`~phiward.errors.ConfigError` saying what
to install.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from phiward.core.entities import EntityType
from phiward.detect._engine import Candidate
from phiward.errors import ConfigError

DEFAULT_MODEL = "en_core_web_sm"
_LABELS = {
    "PERSON": EntityType.NAME,
    "GPE": EntityType.CITY,
    "LOC": EntityType.CITY,
    "FAC": EntityType.STREET_ADDRESS,
    "DATE": EntityType.DATE,
}
NER_CONFIDENCE = 0.6


def load_ner(model: str = DEFAULT_MODEL) -> Callable[[str], list[Candidate]]:
    """A finder for :class:`~phiward.detect.Analyzer`'s ``extra`` tiers, backed by spaCy."""
    if importlib.util.find_spec("spacy") is None:
        raise ConfigError("the NER tier needs spaCy: pip install 'phiward[ner]'")
    if importlib.util.find_spec(model) is None:
        raise ConfigError(
            f"spaCy model package {model!r} is not installed; install it from your package "
            "mirror (phiward never downloads models at run time)"
        )
    import spacy  # noqa: PLC0415 - optional dependency, imported only when asked for

    nlp: Any = spacy.load(model, exclude=["lemmatizer", "textcat"])

    def find(text: str) -> list[Candidate]:
        out = []
        for ent in nlp(text).ents:
            entity = _LABELS.get(ent.label_)
            if entity is None:
                continue
            out.append(
                Candidate(
                    entity,
                    ent.start_char,
                    ent.end_char,
                    NER_CONFIDENCE,
                    f"ner:{model}:{ent.label_}",
                )
            )
        return out

    return find
