"""The build step pyproject.toml cannot declare: queries/ and reports/ stay at the top of the repository
and are copied into the built package as datacomp/_data/<name> (datacomp/resources.py reads them there).
An editable install copies nothing: it reads the clone's folders."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("queries", "reports")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in SHIPPED:
            self.copy_tree(name, str(Path(self.build_lib) / "datacomp" / "_data" / name))


setup(cmdclass={"build_py": BuildWithData})
