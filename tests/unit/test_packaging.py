"""The wheel carries every package and the texts: what `pip install` puts in site-packages."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_in_the_tree_is_listed_for_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    in_tree = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("bot", "storage")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert in_tree <= listed, f"add to [tool.setuptools] packages: {sorted(in_tree - listed)}"
    # The texts are the package ashi_content, from content/, with every language's files.
    assert config["package-dir"] == {"ashi_content": "content"}
    assert "ashi_content" in listed
    assert "*/*.toml" in config["package-data"]["ashi_content"]
