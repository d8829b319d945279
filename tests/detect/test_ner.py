from __future__ import annotations

import importlib.util

import pytest

from phiward.detect.ner import load_ner
from phiward.errors import ConfigError


def test_missing_model_is_a_clear_config_error() -> None:
    with pytest.raises(ConfigError, match=r"not installed|needs spaCy"):
        load_ner("phiward_no_such_model_pkg")


@pytest.mark.skipif(importlib.util.find_spec("spacy") is not None, reason="spaCy is installed")
def test_missing_spacy_names_the_extra() -> None:
    with pytest.raises(ConfigError, match=r"phiward\[ner\]"):
        load_ner()
