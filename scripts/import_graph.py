"""The import graph of l2t_tf's modules, and any cycle in it.

  python scripts/import_graph.py            # one line per module: what it imports
  python scripts/import_graph.py --cycles   # only the cycles (none: exit 0)

Counts every import, also those inside functions, so a cycle hidden by a
function-level import shows. BUILD.md's "Layout" prints it.
"""
import ast
import pathlib
import sys

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "l2t_tf"


def _module(path: pathlib.Path) -> str:
  parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
  return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _holds_code(path: pathlib.Path) -> bool:
  """Whether a file holds more than a docstring (a package's __init__ may not)."""
  body = ast.parse(path.read_text(encoding="utf-8")).body
  return any(not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
             for n in body)


def graph() -> dict[str, set[str]]:
  """module -> the l2t_tf modules it imports (the top package, which only
  names the shipped assets, and empty package files left out)."""
  files = {_module(p): p for p in PACKAGE.rglob("*.py")
           if _module(p) != "l2t_tf" and _holds_code(p)}
  edges = {}
  for name, path in files.items():
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
      if isinstance(node, ast.Import):
        found.update(a.name for a in node.names)
      elif isinstance(node, ast.ImportFrom) and node.module:
        found.update(f"{node.module}.{a.name}" for a in node.names)
        found.add(node.module)
    edges[name] = {m for m in found if m in files and m != name}
  return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
  """Each cycle once, as the path that closes it (by depth-first search)."""
  found, state = [], {}

  def visit(node, path):
    state[node] = "open"
    for nxt in sorted(edges.get(node, ())):
      if state.get(nxt) == "open":
        found.append(path[path.index(nxt):] + [nxt])
      elif nxt not in state:
        visit(nxt, path + [nxt])
    state[node] = "done"

  for node in sorted(edges):
    if node not in state:
      visit(node, [node])
  return found


def main(argv) -> int:
  edges = graph()
  found = cycles(edges)
  if "--cycles" not in argv:
    for name in sorted(edges):
      short = sorted(m.removeprefix("l2t_tf.") for m in edges[name])
      print(f"{name.removeprefix('l2t_tf.'):28s} {', '.join(short) or '-'}")
  for cycle in found:
    print("cycle: " + " -> ".join(cycle))
  return 1 if found else 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
