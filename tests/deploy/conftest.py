"""Each kustomization is built once per session: `kubectl kustomize` is the slow part."""

from __future__ import annotations

import pytest

from tests.deploy.manifests import Doc
from tests.deploy.tools import DEPLOY, kustomize

BASE = DEPLOY / "kubernetes" / "base"
OVERLAY = DEPLOY / "kubernetes" / "overlays" / "example"


@pytest.fixture(scope="session")
def base() -> list[Doc]:
    return kustomize(BASE)


@pytest.fixture(scope="session")
def overlay() -> list[Doc]:
    """The example overlay: the complete set, Secrets included, that the checks read."""
    return kustomize(OVERLAY)
