"""Dependencies run one way: core imports no app; quotas on core; keys on core and quotas; live on
those three (never api); api on all.

Every import counts, including the lazy ones inside functions, and so do imports that pass through
another package (quotas → relay_site.x → api is still quotas depending on api).
"""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["core", "quotas", "keys", "live", "api", "relay_site"]
# What each layer may reach (transitively). relay_site is the project: it wires everything, so only
# its app-independent modules may be used from below, and the walk checks exactly that.
MAY_NOT_REACH = {
    "core": {"api", "keys", "quotas", "live"},
    "quotas": {"api", "keys", "live"},
    "keys": {"api", "live"},
    "live": {"api"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _resolve(name: str) -> str | None:
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


@cache
def direct_imports(module: str) -> frozenset[str]:
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(filter(None, (_resolve(name) for name in names)))


def reachable(module: str) -> dict[str, list[str]]:
    """Every project module `module` reaches, with one import chain to it."""
    chains = {module: [module]}
    todo = [module]
    while todo:
        current = todo.pop()
        for nxt in direct_imports(current):
            if nxt not in chains:
                chains[nxt] = chains[current] + [nxt]
                todo.append(nxt)
    return chains


def violations() -> list[str]:
    found = []
    for module in sorted(modules()):
        layer = module.split(".")[0]
        for target, chain in reachable(module).items():
            if target.split(".")[0] in MAY_NOT_REACH.get(layer, ()):
                found.append(" → ".join(chain))
    return found


@cache
def top_level_names(module: str) -> frozenset[str]:
    names: set[str] = set()
    for node in ast.parse(modules()[module].read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name))
    return frozenset(names)


def unresolved_imports() -> list[str]:
    """Project imports that name a module or attribute that does not exist (a lazy import inside a
    function fails only when it runs, so a moved module can hide behind it)."""
    found = []
    for module in sorted(modules()):
        for node in ast.walk(ast.parse(modules()[module].read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] not in PACKAGES:
                    continue
                if node.module not in modules():
                    found.append(f"{module}: from {node.module}")
                    continue
                for alias in node.names:
                    if f"{node.module}.{alias.name}" not in modules() and alias.name not in top_level_names(node.module):
                        found.append(f"{module}: from {node.module} import {alias.name}")
            elif isinstance(node, ast.Import):
                found.extend(f"{module}: import {a.name}" for a in node.names
                             if a.name.split(".")[0] in PACKAGES and a.name not in modules())
    return found


def test_every_project_import_resolves():
    assert unresolved_imports() == []


def test_the_walk_sees_lazy_and_indirect_imports():
    # api reaches core through its services, and relay_site reaches api: the walk must see both.
    assert "core.errors" in reachable("api.views.chat")
    assert any(m.startswith("api.") for m in reachable("relay_site.asgi"))


def test_no_layer_reaches_one_above_it():
    assert violations() == []


def test_the_live_view_is_fed_by_the_api_and_imports_none_of_it():
    # api feeds live (a finish hook, the stream counter); live must never reach back into api.
    assert "live.publisher" in reachable("api.views.base")
    assert "live" in MAY_NOT_REACH["core"] and "api" in MAY_NOT_REACH["live"]
    assert not any(m.startswith("api.") for name in modules() if name.startswith("live") for m in reachable(name))


def test_core_exists_and_holds_the_shared_parts():
    for name in ["core.errors", "core.call_context", "core.identity", "core.token_counting"]:
        assert name in modules()
