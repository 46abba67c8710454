import pytest

from qmd_reward import Scorer


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    return Scorer()


@pytest.fixture(scope="session")
def s(scorer: Scorer) -> Scorer:
    """The shared scorer under the short name the rule tests use."""
    return scorer


# -- the opt-in real-QMD tests ----------------------------------------------------------------

QMD = "qmd"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{QMD}: runs the real QMD (node 22 and @tobilu/qmd from the npm registry, installed "
        f"once into the cache); skipped unless selected with -m {QMD}",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """QMD tests need npm and the registry: the default run stays offline without them."""
    if QMD in (config.getoption("markexpr", "") or ""):
        return
    skip = pytest.mark.skip(reason=f"real-QMD test: run with -m {QMD}")
    for item in items:
        if QMD in item.keywords:
            item.add_marker(skip)
