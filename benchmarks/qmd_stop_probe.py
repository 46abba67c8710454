"""Does a ChatML expansion model end its expansion by itself when sampled as QMD samples it?

Run: python benchmarks/qmd_stop_probe.py MODEL.gguf [--queries 6]   (needs llama-cpp-python:
pip install -e ".[gguf-embed]")

QMD's expandQuery (src/llm.ts) samples with temperature 0.7, top-k 20, top-p 0.8, a presence
penalty of 0.5 over the last 64 tokens and a grammar of typed lines, up to 600 tokens. This
samples the first queries of data/corpus that way with llama-cpp-python (one seed per query)
for three prompts, all ChatML:

- ``qmd``: what QMD sends, node-llama-cpp's system turn and QMD's user turn, with the BOS
  token node-llama-cpp puts in front (for SmolLM2 a second ``<|im_start|>``);
- ``qmd-no-bos``: the same without that token (what training renders);
- ``model-system``: SmolLM2's own default system line instead of node-llama-cpp's.

Prints, per prompt, how many expansions ended by themselves and their mean length in tokens.
Samples differ from node-llama-cpp's own sampler; the comparison between prompts is the
point. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

from qmd_reward.prompts import SYSTEM_PROMPT, user_message

ROOT = Path(__file__).resolve().parents[1]
GRAMMAR = r"""
root ::= line+
line ::= type ": " content "\n"
type ::= "lex" | "vec" | "hyde"
content ::= [^\n]+
"""
SMOLLM2_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
PROMPTS = {
    "qmd": ("<|im_start|>", SYSTEM_PROMPT),
    "qmd-no-bos": ("", SYSTEM_PROMPT),
    "model-system": ("", SMOLLM2_SYSTEM),
}


def chatml(lead: str, system: str, query: str) -> str:
    return (
        f"{lead}<|im_start|>system\n{system}<|im_end|>\n"
        f"<|im_start|>user\n{user_message(query)}<|im_end|>\n<|im_start|>assistant\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a ChatML GGUF expansion model")
    parser.add_argument("--queries", type=int, default=6, help="first N queries of data/corpus")
    args = parser.parse_args()
    from llama_cpp import Llama, LlamaGrammar

    warnings.filterwarnings("ignore")  # llama-cpp-python warns about the doubled <|im_start|>
    llm = Llama(model_path=args.model, n_ctx=1024, n_threads=1, verbose=False)
    grammar = LlamaGrammar.from_string(GRAMMAR, verbose=False)
    lines = (ROOT / "data" / "corpus" / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    queries = [json.loads(line)["text"] for line in lines if line.strip()][: args.queries]
    for name, (lead, system) in PROMPTS.items():
        ended, tokens = 0, 0
        for seed, query in enumerate(queries):
            out = llm.create_completion(
                chatml(lead, system, query),
                max_tokens=600,
                temperature=0.7,
                top_k=20,
                top_p=0.8,
                presence_penalty=0.5,
                grammar=grammar,
                seed=seed,
            )
            ended += out["choices"][0]["finish_reason"] == "stop"
            tokens += out["usage"]["completion_tokens"]
        print(
            f"{name:13} ended by itself {ended}/{len(queries)}, "
            f"mean {tokens / len(queries):.0f} tokens"
        )


if __name__ == "__main__":
    main()
