"""Shipped data folders: found inside an installed package (a wheel) or beside it (a clone)."""

import pytest

from datacomp import resources
from datacomp.errors import DatacompError


def test_a_clone_reads_the_top_level_folders():
    assert resources.data_dir("queries") == resources.PACKAGE.parent / "queries"
    assert (resources.data_dir("reports") / "report.html").is_file()


def test_an_installed_package_reads_its_bundled_copy_first(tmp_path, monkeypatch):
    package = tmp_path / "site-packages" / "datacomp"
    (package / "_data" / "queries").mkdir(parents=True)
    (tmp_path / "site-packages" / "queries").mkdir()       # a stray folder beside it is not used
    monkeypatch.setattr(resources, "PACKAGE", package)
    assert resources.data_dir("queries") == package / "_data" / "queries"


def test_a_missing_folder_is_one_line_naming_both_places(tmp_path, monkeypatch):
    monkeypatch.setattr(resources, "PACKAGE", tmp_path / "datacomp")
    with pytest.raises(DatacompError, match=r"datacomp's reports/ folder is missing \(looked in "
                                            rf"{tmp_path}/datacomp/_data/reports and {tmp_path}/reports\)"):
        resources.data_dir("reports")
