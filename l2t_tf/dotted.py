"""Dotted config paths ('data.classes'): the one walker over nested configs
(ConfigDicts and the dicts a saved config.json holds)."""


def locate(tree, dotted: str):
  """(the node that holds the field `dotted` names, the field's own name).

  Raises KeyError (or TypeError) when a parent on the path is missing.
  """
  *parents, name = dotted.split(".")
  node = tree
  for parent in parents:
    node = node[parent]
  return node, name


def flatten(tree: dict, prefix: str = "") -> dict:
  """{dotted name: value} of a nested config dict."""
  flat = {}
  for key, value in tree.items():
    if isinstance(value, dict):
      flat.update(flatten(value, f"{prefix}{key}."))
    else:
      flat[f"{prefix}{key}"] = value
  return flat
