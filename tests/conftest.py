import pytest

from qmd_reward import Scorer


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    return Scorer()


@pytest.fixture(scope="session")
def s(scorer: Scorer) -> Scorer:
    """The shared scorer under the short name the rule tests use."""
    return scorer
