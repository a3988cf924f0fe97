"""Reading a Vensim ``.mdl`` file through PySD, without writing next to the source.

``load_abstract_model`` parses the file into PySD's abstract model (no files written);
``load_pysd_model`` translates it with ``pysd.read_vensim`` inside a private folder of this
process (``tempfile.mkdtemp``: an unpredictable name, mode 0700, removed at exit), so the
generated ``.py`` never lands beside the source file and nothing another user planted in a
shared temporary folder is written through or imported. :func:`declared_units` reads each
variable's units string from the text alone (no PySD: the labels of the levers need it at every
command's start). Both raise
:class:`sim.errors.ModelError` naming the file when it is missing or unparseable. A model may
read data files (``GET DIRECT ...``/``GET XLS ...`` functions, ``data_files``) only inside its
own folder (:func:`check_data_files`), so a model file from elsewhere (a conformance test
folder) cannot read another path of the machine.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import stat
import tempfile
import warnings
from pathlib import Path

from sim.errors import ModelError

_PYSD_CACHE: dict[tuple, object] = {}
#: the sketch section that ends the equations of a ``.mdl``
_SKETCH = "\\\\\\---///"
#: a units string's optional range, ``Year [0,?]``
_RANGE = re.compile(r"\s*\[[^\]]*\]\s*$")
#: the file argument of Vensim's GET functions (GET DIRECT/XLS/123 DATA/CONSTANTS/LOOKUPS/...)
_GET_FILE = re.compile(r"GET[\s_]+(?:DIRECT|XLS|123)[\s_]+\w+\s*\(\s*'([^']*)'", re.I)


def inside_folder(model_path: Path, f) -> Path:
    """Data file ``f`` (relative to the model's folder, or absolute) if it lies inside the
    model's folder (links followed); else :class:`ModelError` naming both."""
    folder = Path(model_path).resolve().parent
    target = (folder / Path(f)).resolve()
    if not target.is_relative_to(folder):
        raise ModelError(f"model '{model_path}': data file '{f}' is outside the model's folder "
                         f"'{folder}'; allowed: a file inside it")
    return target


def check_data_files(model_path: Path, text: str) -> None:
    """Refuse a model whose GET functions name a file outside its folder (``'?name'`` refers
    to a data file given with the model: checked where those are)."""
    for name in _GET_FILE.findall(text):
        if name and not name.startswith("?"):
            inside_folder(model_path, name)


def _check(path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"model file '{p}' does not exist")
    return p


def load_abstract_model(path, data_files=None):
    """Parse ``path`` with PySD's VensimFile and return its ``AbstractModel``.

    ``data_files`` is accepted for symmetry with :func:`load_pysd_model`; the abstract model
    does not need it (data is read when the model is compiled).
    """
    from pysd.translators.vensim.vensim_file import VensimFile

    p = _check(path)
    check_data_files(p, p.read_text(encoding="utf-8", errors="replace"))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No encoding specified")
            ven = VensimFile(p)
            ven.parse()
            return ven.get_abstract_model()
    except Exception as exc:  # PySD raises many kinds of parse errors
        raise ModelError(f"model file '{p}' could not be parsed by PySD: {exc}") from exc


_PRIVATE: list[Path] = []


def translation_dir() -> Path:
    """This process's own folder for translated models (created once, mode 0700, an
    unpredictable name under the system's temporary folder, removed at exit)."""
    if _PRIVATE and _PRIVATE[0].is_dir():
        return _PRIVATE[0]
    d = Path(tempfile.mkdtemp(prefix="plansim-pysd-"))
    st = os.lstat(d)
    if os.name == "posix" and (not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid()
                               or st.st_mode & 0o077):
        raise ModelError(f"temporary folder '{d}' is not private to this user")
    _PRIVATE[:] = [d]
    atexit.register(shutil.rmtree, d, True)
    return d


def _cache_dir(content: bytes) -> Path:
    digest = hashlib.sha256(content).hexdigest()[:16]
    d = translation_dir() / digest
    d.mkdir(mode=0o700, exist_ok=True)
    return d


def load_pysd_model(path, data_files=None):
    """Translate and load ``path`` with ``pysd.read_vensim`` in a temp cache directory.

    ``data_files``: a path, list of paths, or dict as PySD accepts; relative paths are taken
    relative to the model's directory. Returns a ``pysd`` Model (cached per content hash and
    data files within the process; a later call reloads the cached Model in place and returns
    it).
    """
    import pysd

    p = _check(path)
    content = p.read_bytes()
    check_data_files(p, content.decode("utf-8", errors="replace"))
    files = _resolve_data_files(p, data_files)
    key = (hashlib.sha256(content).hexdigest(), repr(files))
    cached = _PYSD_CACHE.get(key)
    if cached is not None:
        cached.reload()   # in place (PySD's reload returns None)
        return cached
    d = _cache_dir(content)
    target = d / p.name
    if not target.exists() or target.read_bytes() != content:
        shutil.copyfile(p, target)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No encoding specified")
            model = pysd.read_vensim(str(target), data_files=files)
    except Exception as exc:
        raise ModelError(f"model file '{p}' could not be translated by PySD: {exc}") from exc
    _PYSD_CACHE[key] = model
    return model


def _resolve_data_files(model_path: Path, data_files):
    if data_files is None:
        return None
    if isinstance(data_files, (str, Path)):
        data_files = [data_files]
    if isinstance(data_files, dict):
        return {str(inside_folder(model_path, k)): v for k, v in data_files.items()}
    out = []
    for f in data_files:
        a = inside_folder(model_path, f)
        if not a.is_file():
            raise ModelError(f"data file '{a}' for model '{model_path}' does not exist")
        out.append(str(a))
    return out


def variable_key(name: str) -> str:
    """A Vensim name as Vensim compares names: case and ``_``/space runs do not count."""
    return " ".join(name.replace("_", " ").lower().split())


def declared_units(path) -> dict[str, str]:
    """The units string of every variable of the ``.mdl`` at ``path``, by :func:`variable_key`
    (its range ``[min,max]`` left off), read from the text: ``name = ... ~ units ~ comment |``."""
    path = _check(path)
    text = path.read_text(encoding="utf-8").split(_SKETCH, 1)[0]
    units = {}
    for equation in text.split("|"):
        parts = equation.split("~")
        if len(parts) < 3:
            continue
        head = re.split(r"[=(\[]|:=", parts[0].replace("{UTF-8}", ""), maxsplit=1)[0]
        if head.strip() and not head.strip().startswith("*"):
            units[variable_key(head)] = _RANGE.sub("", parts[1]).strip()
    return units
