"""`make test`'s runner: each suite's pytest files live in a folder of its own, removed when it ends."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

from tests.run_suites import _Suite


def test_a_suites_tmp_path_folders_are_its_own_and_gone_when_it_ends(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("KEEP_RELAY_LOGS", raising=False)
    test_file = tmp_path / "test_writes.py"
    test_file.write_text(textwrap.dedent("""
        def test_writes(tmp_path):
            (tmp_path / "left.txt").write_text("x")
            print("WROTE", tmp_path)
    """))
    suite = _Suite("inner", dict(os.environ), ["-q", "-s", "-p", "no:cacheprovider", "-p", "no:django",
                                               "--rootdir", str(tmp_path), str(test_file)])
    status, counts = suite.report()
    output = capsys.readouterr().out
    assert (status, counts["passed"]) == (0, 1), output
    written = Path(next(line for line in output.splitlines() if "WROTE" in line).split("WROTE ", 1)[1].strip())
    assert written.is_relative_to(suite.basetemp) and (written / "left.txt").exists()
    suite.stop()
    suite.remove_files()
    assert not Path(suite.basetemp).exists()
