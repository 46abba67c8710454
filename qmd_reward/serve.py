"""``qmd-reward serve``: the scoring service over HTTP, so a GRPO job on GPUs can score on
CPU workers and OpenRLHF can call it as a remote reward model.

The standard library's ``ThreadingHTTPServer`` is enough: requests are few and large (a
batch of completions each), scoring holds a lock anyway, and the core stays free of a web
framework. It listens on 127.0.0.1 unless told otherwise: the API has no authentication.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .service import BadRequest, Limits, ScoringService
from .trl import QMDReward

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
SCORE_PATH = "/score"
OPENRLHF_PATH = "/get_reward"
HEALTH_PATH = "/health"
# An oversized body is read and thrown away up to this much, so the client, still sending,
# reads the 413 instead of a reset connection; past it the connection is simply closed.
_DRAIN_LIMIT = 64 * 1024 * 1024
# A client that stops sending mid-request frees its thread after this many seconds.
_SOCKET_TIMEOUT = 60.0


class Handler(BaseHTTPRequestHandler):
    """One request: route, bound, parse, score, answer JSON. Every answer is JSON, errors
    too (``{"error": message}``)."""

    server: ScoreServer
    timeout = _SOCKET_TIMEOUT
    server_version = "qmd-reward"

    def do_GET(self) -> None:
        if self.path == HEALTH_PATH:
            self._send(HTTPStatus.OK, self.server.service.health())
        elif self.path in (SCORE_PATH, OPENRLHF_PATH):
            self._error(HTTPStatus.METHOD_NOT_ALLOWED, f"use POST for {self.path}")
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such path {self.path!r}")

    def do_POST(self) -> None:
        service = self.server.service
        routes = {SCORE_PATH: service.score, OPENRLHF_PATH: service.openrlhf}
        route = routes.get(self.path)
        try:
            body = self._body()  # read even for a wrong path, so the client gets the answer
            if route is None:
                raise BadRequest(f"no such path {self.path!r}", status=HTTPStatus.NOT_FOUND)
            answer = route(_json(body))
        except BadRequest as exc:
            self._error(HTTPStatus(exc.status), exc.message)
            return
        except Exception:  # a bug, not bad input: say so, keep serving
            log.exception("qmd-reward serve: internal error on %s", self.path)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error (logged by the server)")
            return
        self._send(HTTPStatus.OK, answer)

    def _body(self) -> bytes:
        """The request's body, within the size limit."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            raise BadRequest("send a Content-Length; chunked bodies are not read", status=411)
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            raise BadRequest("a Content-Length header is required", status=411)
        try:
            length = int(raw_length)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise BadRequest(f"bad Content-Length {raw_length!r}")
        limit = self.server.service.limits.max_bytes
        if length > limit:
            self._discard(length)
            raise BadRequest(f"body of {length} bytes; at most {limit}", status=413)
        return self.rfile.read(length)

    def _discard(self, length: int) -> None:
        self.close_connection = True
        left = min(length, _DRAIN_LIMIT)
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            left -= len(chunk)

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._send(status, {"error": message})

    def _send(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "POST")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        # One line per request on stderr is noise at GRPO's request rate.
        log.debug("%s " + format, self.address_string(), *args)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
    except ValueError as exc:  # an integer too long to read, say
        raise BadRequest(f"unreadable JSON: {exc}") from None
    except RecursionError:  # [[[[...]]]] nested past Python's limit
        raise BadRequest("JSON nested too deeply") from None


class ScoreServer(ThreadingHTTPServer):
    """A threading HTTP server that carries the scoring service for its handlers."""

    daemon_threads = True  # a hung client must not keep the process from exiting

    def __init__(self, address: tuple[str, int], service: ScoringService) -> None:
        self.service = service
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def make_server(
    reward: QMDReward | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    limits: Limits | None = None,
) -> ScoreServer:
    """A server bound to ``(host, port)`` (port 0: any free port, see ``server.url``), not yet
    serving: call ``serve_forever()``, in a thread if need be, and ``shutdown()``."""
    service = ScoringService(reward or QMDReward(log_details=False), limits)
    return ScoreServer((host, port), service)


# -- the command --------------------------------------------------------------------------


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    from .retrieval.cli import add_embedder_arguments, add_relevance_arguments

    parser = subparsers.add_parser(
        "serve",
        help="serve the scorer over HTTP (POST /score, POST /get_reward for OpenRLHF)",
        description="Score batches of completions over HTTP with the same code as the TRL "
        f"reward: POST {SCORE_PATH} {{'items': [{{'query', 'completion'}}, ...]}}, POST "
        f"{OPENRLHF_PATH} (OpenRLHF's --remote_rm_url), GET {HEALTH_PATH}. No authentication: "
        "keep it on localhost or a private network.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    parser.add_argument(
        "--max-items",
        type=int,
        default=Limits.max_items,
        help=f"completions per request, at most (default {Limits.max_items})",
    )
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=Limits.max_bytes,
        help=f"request body size, at most (default {Limits.max_bytes})",
    )
    add_relevance_arguments(parser, required=False)
    add_embedder_arguments(parser)
    parser.set_defaults(func=cmd_serve)
    return parser


def reward_for(args: argparse.Namespace) -> QMDReward:
    """The reward the arguments describe: with ``--corpus`` or ``--reference-corpus`` it
    judges retrieval for items that carry relevance (or whose query the corpus knows)."""
    from .retrieval.cli import build_judge, load_relevance
    from .scorer import Scorer

    source = load_relevance(args)
    if source is None:
        return QMDReward(log_details=False)
    judge = build_judge(args, source.corpus)
    return QMDReward(partial(Scorer, retrieval=judge), relevance=source, log_details=False)


def cmd_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        reward = reward_for(args)
    except (OSError, ValueError) as exc:  # DenseUnavailable is a ValueError
        print(f"qmd-reward serve: cannot load the corpus or model: {exc}", file=sys.stderr)
        return 2
    limits = Limits(max_bytes=args.max_bytes, max_items=args.max_items)
    try:
        server = make_server(reward, args.host, args.port, limits)
    except OSError as exc:
        print(f"qmd-reward serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    server.service.warm_up()
    print(
        f"qmd-reward serve: {server.url} (POST {SCORE_PATH}, POST {OPENRLHF_PATH}, "
        f"GET {HEALTH_PATH}); Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "ScoreServer", "add_parser", "make_server"]
