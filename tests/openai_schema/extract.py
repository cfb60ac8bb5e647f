"""Extract the OpenAI response schemas our tests need from OpenAI's OpenAPI spec.

Usage (from the project root)::

    python -m tests.openai_schema.extract [--spec PATH] [--license PATH]

Writes ``tests/openai_schema/openai-schemas.json`` (the root schemas below plus
everything they transitively ``$ref``, copied verbatim) and copies the spec's
MIT licence to ``tests/openai_schema/LICENSE``.  The OpenAPI -> JSON Schema
conversion happens at load time in ``tests/openai_schema/__init__.py``; this
script does not alter the schemas.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SPEC = Path("/work/shared/reference/openai-openapi.json")
DEFAULT_LICENSE = Path("/work/shared/reference/openai-openapi.LICENSE")
OUTPUT = HERE / "openai-schemas.json"
LICENSE_OUT = HERE / "LICENSE"

REF_PREFIX = "#/components/schemas/"

# Schemas the tests need by name (all verified to exist in spec version 2.3.0).
ROOT_SCHEMAS = [
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "ListModelsResponse",
    "Model",
    "ErrorResponse",
    "Error",
    "Response",
    "ResponseStreamEvent",
    "ResponseCreatedEvent",
    "ResponseInProgressEvent",
    "ResponseOutputItemAddedEvent",
    "ResponseContentPartAddedEvent",
    "ResponseTextDeltaEvent",
    "ResponseTextDoneEvent",
    "ResponseContentPartDoneEvent",
    "ResponseOutputItemDoneEvent",
    "ResponseCompletedEvent",
    "ResponseIncompleteEvent",
    "ResponseFailedEvent",
    "ResponseErrorEvent",
    "ResponseItemList",
    # DELETE /responses/{response_id} has a bare 200 {"description": "OK"} in
    # the spec (no body schema), so there is no delete-response schema to add.
    "ImagesResponse",
    "CreateTranscriptionResponseJson",
    "CreateTranscriptionResponseVerboseJson",
    "CreateTranslationResponseJson",
    "CreateTranslationResponseVerboseJson",
    "CreateSpeechResponseStreamEvent",
    "CreateEmbeddingResponse",
]

# Every schema referenced by the 200 response of any method on these paths is
# added as a root too (e.g. ChatCompletionList, ImageGenStreamEvent,
# CreateTranscriptionResponseDiarizedJson, DeleteModelResponse).
ROOT_PATHS = [
    "/chat/completions",
    "/responses",
    "/responses/{response_id}",
    "/responses/{response_id}/input_items",
    "/images/generations",
    "/audio/transcriptions",
    "/audio/translations",
    "/audio/speech",
    "/models",
    "/models/{model}",
]

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def iter_refs(node):
    """Yield every ``$ref`` string inside ``node``."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from iter_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from iter_refs(value)


def ref_name(ref: str) -> str:
    if not ref.startswith(REF_PREFIX) or "/" in ref[len(REF_PREFIX):]:
        raise ValueError(f"unsupported $ref {ref!r} (only {REF_PREFIX}<Name> is handled)")
    return ref[len(REF_PREFIX):]


def path_response_roots(spec: dict) -> dict[str, list[str]]:
    """Map 'METHOD /path' -> schema names referenced by its 200 response."""
    found: dict[str, list[str]] = {}
    paths = spec.get("paths", {})
    for path in ROOT_PATHS:
        if path not in paths:
            raise SystemExit(f"path {path!r} not found in spec")
        for method, op in paths[path].items():
            if method not in HTTP_METHODS:
                continue
            ok = op.get("responses", {}).get("200")
            if ok is None:
                continue
            if "$ref" in ok:  # shared components/responses entry
                ok = spec["components"]["responses"][ok["$ref"].rsplit("/", 1)[-1]]
            names = sorted({ref_name(r) for r in iter_refs(ok.get("content", {}))})
            found[f"{method.upper()} {path}"] = names
    return found


def closure(schemas: dict, roots: list[str]) -> list[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        if name not in schemas:
            raise SystemExit(f"schema {name!r} not found in spec components.schemas")
        seen.add(name)
        stack.extend(ref_name(r) for r in iter_refs(schemas[name]))
    return sorted(seen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--license", type=Path, default=DEFAULT_LICENSE)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)

    raw = args.spec.read_bytes()
    spec = json.loads(raw)
    schemas = spec["components"]["schemas"]

    missing = [n for n in ROOT_SCHEMAS if n not in schemas]
    if missing:
        raise SystemExit(f"root schemas missing from spec: {missing}")

    by_path = path_response_roots(spec)
    roots = list(dict.fromkeys(ROOT_SCHEMAS + [n for ns in by_path.values() for n in ns]))
    names = closure(schemas, roots)

    info = spec.get("info", {})
    doc = {
        "source": {
            "file": args.spec.name,
            "title": info.get("title"),
            "version": info.get("version"),
            "openapi": spec.get("openapi"),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "upstream": "https://github.com/openai/openai-openapi",
        },
        "note": (
            "Subset of OpenAI's published OpenAPI spec (components.schemas only): the root "
            "schemas listed in 'roots' plus everything they transitively $ref, copied "
            "verbatim. Copyright (c) OpenAI, MIT licence - see LICENSE in this directory "
            "(copied from openai-openapi.LICENSE). Regenerate with "
            "`python -m tests.openai_schema.extract`; do not edit by hand."
        ),
        "roots": roots,
        "path_responses_200": by_path,
        "components": {"schemas": {n: schemas[n] for n in names}},
    }
    with OUTPUT.open("w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1, ensure_ascii=False, sort_keys=False)
        fh.write("\n")
    shutil.copyfile(args.license, LICENSE_OUT)

    print(
        f"wrote {OUTPUT.relative_to(Path.cwd()) if OUTPUT.is_relative_to(Path.cwd()) else OUTPUT}: "
        f"{len(roots)} roots, {len(names)} schemas, {OUTPUT.stat().st_size} bytes "
        f"(spec {len(raw)} bytes)",
        file=sys.stderr,
    )
    if args.verbose:
        for key, ns in by_path.items():
            print(f"  {key} -> {ns or '(no body schema)'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
