"""MkDocs hooks (mkdocs.yml): the API reference page renders schemas/openapi.json, so the site serves
that very file (copied at build time, never a second copy in docs/)."""

from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

OPENAPI = Path(__file__).resolve().parent.parent / "schemas" / "openapi.json"


def on_files(files: Files, config: MkDocsConfig, **kwargs: Any) -> Files:
    files.append(File.generated(config, "openapi.json", abs_src_path=str(OPENAPI)))
    return files
