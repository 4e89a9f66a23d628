"""Process-wide memory settings: the trim schedule, the pandas guard, glibc calls."""

from __future__ import annotations

import subprocess
import sys

import pytest

from collectors.process_memory import (
    PeriodicTrim,
    _WithheldPandas,
    limit_malloc_arenas,
    trim_malloc,
)


def test_periodic_trim_is_due_once_per_period() -> None:
    trim = PeriodicTrim(every_s=10.0)
    assert trim.due(100.0)  # the first call: due
    assert not trim.due(105.0)
    assert not trim.due(109.9)
    assert trim.due(110.0)
    assert not trim.due(119.0)


def test_withheld_pandas_names_why_and_leaves_other_modules_alone() -> None:
    finder = _WithheldPandas()
    for name in ("pandas", "pandas.core.frame"):
        with pytest.raises(ImportError, match=r"not loaded in the lagwatch collector process"):
            finder.find_spec(name)
    assert finder.find_spec("pandasql") is None
    assert finder.find_spec("numpy") is None


def test_glibc_calls_do_not_fail() -> None:
    assert isinstance(limit_malloc_arenas(8), bool)  # 8: glibc's own default per core
    trim_malloc()


def test_a_lean_process_builds_arrow_tables_without_importing_pandas() -> None:
    # A child process: the guard is process-wide by design.
    code = (
        "import sys\n"
        "from collectors.process_memory import lean_process\n"
        "lean_process()\n"
        "import numpy as np, pyarrow as pa\n"
        "t = pa.Table.from_arrays([pa.array(np.arange(3)), pa.array(['a', 'b', 'c'])],"
        " names=['n', 's'])\n"
        "assert t.num_rows == 3\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
