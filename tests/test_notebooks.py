"""Every notebook in notebooks/ runs from top to bottom without an error."""

from __future__ import annotations

import pytest

from sim import paths

NOTEBOOKS = sorted((paths.ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
# on one worker: nbformat's import (jsonschema building its URI grammars) costs seconds once
@pytest.mark.xdist_group("notebooks")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path):
    # here, not at collection: nbformat imports jsonschema, whose URI grammars take seconds
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    images = [[o["data"]["image/png"] for o in c.get("outputs", []) if "image/png" in
               o.get("data", {})] for c in nb.cells if c.cell_type == "code"]
    assert any(images)
    assert all(len(cell) <= 1 for cell in images), "a figure shown twice"
    flat = [png for cell in images for png in cell]
    assert len(set(flat)) == len(flat), "two identical figures"
