"""Expansions from a model for a list of queries: what ``qmd-reward eval generate`` writes.

The model is loaded with :func:`trainers.load_model`, so an SFT or GRPO directory always gets
its recorded adapter chain, and prompts come from :func:`trainers.generation.render_prompt`,
the function training uses, so eval prompts cannot drift from training prompts. torch and
transformers are imported inside the functions that need them.
"""

from __future__ import annotations

import copy
import datetime
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class GenerateError(RuntimeError):
    """A run that cannot start (missing backend, unloadable model); the message says why."""


@dataclass(frozen=True)
class Sampling:
    """How tokens are chosen. The defaults are Qwen3's recommended non-thinking settings."""

    greedy: bool = False
    temperature: float = 0.7
    top_p: float = 0.8
    top_k: int = 20
    max_new_tokens: int = 200

    def to_json(self) -> dict[str, Any]:
        if self.greedy:
            return {"greedy": True, "max_new_tokens": self.max_new_tokens}
        return {
            "greedy": False,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "max_new_tokens": self.max_new_tokens,
        }


# -- transformers -----------------------------------------------------------------------------


def pick_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _looks_local(model_path: str) -> bool:
    return model_path.startswith(("/", ".", "~")) or Path(model_path).exists()


def load(model_path: str, device: str = "auto") -> tuple[Any, Any]:
    """The model and tokenizer, with the adapter chain its manifest records applied."""
    from trainers.base_models import is_gguf_source

    if is_gguf_source(model_path):
        if not model_path.startswith("package:") and not Path(model_path).is_file():
            raise GenerateError(f"{model_path}: no such GGUF file")
    elif _looks_local(model_path) and not Path(model_path).is_dir():
        # Otherwise the hub client answers with a puzzling "repo id must be..." error.
        raise GenerateError(f"{model_path}: no such model directory")
    from trainers import load_model

    model, tokenizer = load_model(model_path)
    model.to(pick_device(device))
    if tokenizer.pad_token is None:
        # Batches need a pad token; padding sits left of the prompt, so it is never read.
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def generation_config(model: Any, tokenizer: Any, sampling: Sampling) -> Any:
    """The model's own generation config (its stop tokens) with our sampling settings."""
    config = copy.deepcopy(model.generation_config)
    config.max_new_tokens = sampling.max_new_tokens
    config.pad_token_id = tokenizer.pad_token_id
    if sampling.greedy:
        # Qwen3 ships sampling values in its generation config; unset them so greedy decoding
        # is plain argmax and transformers does not warn that they are ignored.
        config.do_sample = False
        config.temperature = config.top_p = config.top_k = None
    else:
        config.do_sample = True
        config.temperature = sampling.temperature
        config.top_p = sampling.top_p
        config.top_k = sampling.top_k
    return config


def generate_batch(model: Any, tokenizer: Any, queries: Sequence[str], config: Any) -> list[str]:
    """One completion per query, special tokens removed (as TRL decodes completions)."""
    import torch

    from trainers.generation import render_prompt

    prompts = [render_prompt(tokenizer, q) for q in queries]
    previous_side = tokenizer.padding_side
    tokenizer.padding_side = "left"  # decoder-only models continue from the right edge
    try:
        batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    finally:
        tokenizer.padding_side = previous_side
    batch = batch.to(model.device)
    with torch.inference_mode():
        ids = model.generate(**batch, generation_config=config)
    new = ids[:, batch["input_ids"].shape[1] :]
    return [text.strip() for text in tokenizer.batch_decode(new, skip_special_tokens=True)]


def expand(
    model: Any,
    tokenizer: Any,
    queries: Sequence[str],
    sampling: Sampling,
    batch_size: int = 16,
) -> Iterator[list[str]]:
    """Completions batch by batch, so callers can write and report progress as they go."""
    config = generation_config(model, tokenizer, sampling)
    for start in range(0, len(queries), batch_size):
        yield generate_batch(model, tokenizer, queries[start : start + batch_size], config)


def set_seed(seed: int) -> None:
    """Seed Python, numpy and torch (all devices): the same seed gives the same samples."""
    from transformers import set_seed as transformers_set_seed

    transformers_set_seed(seed)


# -- vLLM -------------------------------------------------------------------------------------


def expand_vllm(
    model_path: str, queries: Sequence[str], sampling: Sampling, seed: int
) -> list[str]:
    """All completions through vLLM (its own progress bar); only for directories that load
    directly, because vLLM knows nothing of our adapter chains."""
    try:
        from vllm import LLM, SamplingParams
    except ImportError as exc:
        raise GenerateError(
            "--vllm needs the vllm package, which is not importable here "
            "(pip install vllm on a machine with a supported GPU), or leave out --vllm"
        ) from exc
    manifest = read_model_manifest(model_path)
    if manifest is not None and not manifest.loads_directly:
        raise GenerateError(
            f"{model_path} is an adapter trained on a chain that vLLM cannot apply; merge it "
            f"first with `qmd-reward export {model_path} OUT` and pass OUT"
        )
    from trainers.generation import render_prompt

    llm = LLM(model=model_path, seed=seed)
    prompts = [render_prompt(llm.get_tokenizer(), q) for q in queries]
    if sampling.greedy:
        params = SamplingParams(temperature=0.0, max_tokens=sampling.max_new_tokens, seed=seed)
    else:
        params = SamplingParams(
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            top_k=sampling.top_k,
            max_tokens=sampling.max_new_tokens,
            seed=seed,
        )
    return [out.outputs[0].text.strip() for out in llm.generate(prompts, params)]


# -- the results file -------------------------------------------------------------------------


def read_model_manifest(model_path: str) -> Any:
    """The directory's manifest, or None (a hub id, or a directory the trainers did not write)."""
    from trainers.manifest import read_manifest

    return read_manifest(model_path) if Path(model_path).is_dir() else None


def meta_record(
    model_path: str,
    sampling: Sampling,
    *,
    seed: int,
    backend: str,
    queries_file: str,
    count: int,
    batch_size: int,
) -> dict[str, Any]:
    """The ``_meta`` line: enough to know what produced a results file and to rerun it."""
    from qmd_reward import __version__

    manifest = read_model_manifest(model_path)
    local = Path(model_path).is_dir()
    return {
        "_meta": True,
        "model": model_path,
        "model_path": str(Path(model_path).resolve()) if local else None,
        "model_kind": manifest.kind if manifest else None,
        "chain": list(manifest.chain) if manifest else None,
        "sampling": sampling.to_json(),
        "seed": seed,
        "backend": backend,
        "batch_size": batch_size if backend == "transformers" else None,
        "queries_file": queries_file,
        "queries": count,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "qmd_reward_version": __version__,
    }


def _write(handle: Any, row: dict[str, Any]) -> None:
    handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def generate_file(
    model_path: str,
    pairs: Sequence[tuple[str, str]],
    output: str | Path,
    *,
    sampling: Sampling,
    seed: int = 0,
    batch_size: int = 16,
    use_vllm: bool = False,
    device: str = "auto",
    queries_file: str = "",
) -> int:
    """Expand every ``(category, query)`` and write the results file; returns records written.

    With transformers the model is loaded before the file is opened (a failed load leaves no
    half-written file), and records are flushed batch by batch, so an interrupted run keeps
    what it finished. The same seed, batch size and device give the same file.
    """
    from tqdm import tqdm

    queries = [query for _, query in pairs]
    backend = "vllm" if use_vllm else "transformers"
    if use_vllm:
        batches: Iterator[list[str]] = iter([expand_vllm(model_path, queries, sampling, seed)])
    else:
        model, tokenizer = load(model_path, device)
        set_seed(seed)
        batches = expand(model, tokenizer, queries, sampling, batch_size)
    meta = meta_record(
        model_path,
        sampling,
        seed=seed,
        backend=backend,
        queries_file=queries_file,
        count=len(pairs),
        batch_size=batch_size,
    )
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    written = 0
    progress = tqdm(
        total=len(pairs),
        unit=" queries",
        file=sys.stderr,
        disable=use_vllm or not sys.stderr.isatty(),  # vLLM draws its own bar
    )
    try:
        with open(output, "w", encoding="utf-8") as handle:
            _write(handle, meta)
            for expansions in batches:
                for expansion in expansions:
                    category, query = pairs[written]
                    _write(handle, {"query": query, "category": category, "expansion": expansion})
                    written += 1
                handle.flush()
                progress.update(len(expansions))
    finally:
        progress.close()
    return written
