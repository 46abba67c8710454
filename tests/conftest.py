import pytest

from qmd_reward import Scorer


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    return Scorer()
