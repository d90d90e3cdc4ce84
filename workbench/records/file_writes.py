"""The two ways a run record's files are written: whole files atomically, metrics row by row.

`atomic_write_text` writes a temp file in the same directory (mode 0666 less the umask, where
`mkstemp` would give 0600), then `os.replace`s it; `MetricsWriter` appends flushed CSV rows. Both
are re-exported by `workbench.records.run_record`, whose docstring describes the record.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.records.checks import RecordError, file_mode

__all__ = ["MetricsWriter", "atomic_write_text"]


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` through a temp file in the same directory and `os.replace`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, file_mode())  # mkstemp creates 0600
        with os.fdopen(fd, "w", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        raise _naming(err, path)


def _naming(err: BaseException, path: Path) -> BaseException:
    """`err`, or an `OSError` that names `path` when `err` names no file (a write or flush that
    met a full disk), so its message can say where."""
    if isinstance(err, OSError) and err.filename is None and err.errno is not None:
        named = OSError(err.errno, err.strerror, str(path))
        named.__cause__ = err
        return named
    return err


class MetricsWriter:
    """Appends metric rows (dicts with `step`, `kind` and any values) to a CSV file, flushing each.

    A row with a new key widens the header by rewriting the file once; rows written before carry
    empty cells there. Usable as the `log` sink of `dvg_core.training.trainer.Trainer`. `truncate_after` and
    `clear` re-read the header from the file. A file that cannot be read raises `RecordError`
    when its rows are needed.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.columns: list[str] = []
        try:  # an unreadable file is reported when its rows are read (`_read`), not here
            with open(self.path, newline="") as f:
                self.columns = next(csv.reader(f), [])
        except (OSError, UnicodeDecodeError, csv.Error):
            pass

    def write(self, row: Mapping[str, Any]) -> None:
        """Append one row."""
        if "step" not in row or "kind" not in row:
            raise ValueError(f"a metrics row needs 'step' and 'kind', got keys {list(row)}")
        new = [k for k in ("step", "kind", *row) if k not in self.columns]
        if new:
            header, rows = self._read()
            self._rewrite(rows, list(dict.fromkeys([*header, *self.columns, *new])))
        try:
            with open(self.path, "a", newline="") as f:
                csv.DictWriter(f, self.columns).writerow({k: _cell(v) for k, v in row.items()})
        except OSError as err:
            raise _naming(err, self.path) from err

    def truncate_after(self, step: int) -> None:
        """Drop every row with `step` > `step` (a resumed run rewrites them)."""
        header, rows = self._read()
        if header:
            self._rewrite([r for r in rows if float(r["step"]) <= step], header)

    def clear(self) -> None:
        """Delete the file (a fresh start)."""
        self.path.unlink(missing_ok=True)
        self.columns = []

    def _read(self) -> tuple[list[str], list[dict[str, str]]]:
        """The file's header and rows ([], [] if there is none)."""
        if not self.path.exists():
            return [], []
        try:
            with open(self.path, newline="") as f:
                reader = csv.DictReader(f)
                rows = list(reader)
                header = list(reader.fieldnames or [])
            if not header and not rows:
                return [], []
            if header[:2] != ["step", "kind"]:
                raise ValueError(f"header {header[:4]} does not start with step,kind")
            for row in rows:
                float(row["step"])
        except (OSError, UnicodeDecodeError, csv.Error, TypeError, ValueError) as err:
            raise RecordError(f"{self.path} is unreadable ({type(err).__name__}: {err}); pass "
                              "--restart (resume=False) to discard the record's progress") from None
        return header, rows

    def _rewrite(self, rows: list[dict[str, str]], columns: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path, buffer.getvalue())
        self.columns = columns


def _cell(value: Any) -> Any:
    """`None` -> empty cell; floats keep `repr` precision (csv writes `str`, which is `repr`)."""
    return "" if value is None else value
