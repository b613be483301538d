"""Packages import downward only, and no module imports itself back through others
(imports inside functions count too: a lazy import still makes a circle)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Each package and the packages it may use: the layers of docs/architecture.md.
ALLOWED = {
    "sketch": set(),
    "inpaint": {"sketch"},
    "holes": {"inpaint"},
    "evaluation": {"inpaint", "sketch", "holes"},
    "train": {"inpaint", "sketch", "holes", "evaluation"},
    "release": {"inpaint", "sketch", "holes", "evaluation", "train"},
    "webapp": {"inpaint", "sketch"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The project modules `path` imports, anywhere in it, resolved to full names."""
    name, found = module_name(path), set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found |= {f"{base}.{alias.name}" for alias in node.names} | {base}
    return {m for m in found if m.split(".")[0] in ALLOWED}


def project_modules() -> dict[str, set[str]]:
    modules = {module_name(p): p for package in ALLOWED for p in (ROOT / package).rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        graph[name] = {m if m in modules else m.rpartition(".")[0] for m in imports(path)}
        graph[name] = {m for m in graph[name] if m in modules and m != name}
    return graph


def test_packages_import_downward_only():
    wrong = sorted(f"{a} imports {b}" for a, targets in project_modules().items() for b in targets
                   if b.split(".")[0] != a.split(".")[0] and b.split(".")[0] not in ALLOWED[a.split(".")[0]])
    assert not wrong, wrong


def test_no_module_imports_itself_back():
    graph = project_modules()
    state: dict[str, int] = {}
    circles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                circles.append(" → ".join(trail[trail.index(target):] + [node, target]) if target in trail
                               else f"{node} → {target}")
            elif target not in state:
                visit(target, trail + [node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    # a package's __init__ that re-exports its own modules is not a circle of concern
    circles = [c for c in circles if not any(part.count(".") == 0 for part in c.split(" → ")[1:])]
    assert not circles, circles
