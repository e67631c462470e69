"""Time slice create / curriculum / split / export on a synthetic store of N documents with scores.

Not a test (pytest does not collect it): `DATACOMP_PROGRESS=0 python tests/curation/bench_slices.py 100000`.
"""
import hashlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from datacomp.store import open_store
from datacomp.curation.slices import create_slice
from datacomp.curation.curriculum import CurriculumConfig, build_curriculum
from datacomp.curation.splits import SplitConfig, split_slice
from datacomp.curation.export import ExportConfig, export_slice

n = int(sys.argv[1])
tmp = Path(tempfile.mkdtemp())
rng = np.random.default_rng(0)
with open_store(tmp / "s.duckdb") as store:
    ids = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]
    texts = [f"doc {i} " * 20 for i in range(n)]
    docs = pa.table({"doc_id": ids, "corpus": ["c"] * n, "domain": [["a", "b", "c"][i % 3] for i in range(n)],
                     "text": texts, "n_chars": [len(t) for t in texts], "n_bytes": [len(t) for t in texts],
                     "source": ["x"] * n})
    store.con.register("d", docs)
    store.con.execute("INSERT INTO documents (doc_id, corpus, domain, text, n_chars, n_bytes, source) SELECT * FROM d")
    sc = pa.table({"doc_id": ids, "model_id": ["m"] * n, "window_len": [64] * n, "stride": [32] * n,
                   "dtype": ["float32"] * n, "entropy_mean": rng.normal(3, 1, n)})
    store.con.register("s", sc)
    store.con.execute("INSERT INTO scores (doc_id, model_id, window_len, stride, dtype, entropy_mean) SELECT * FROM s")
    store.con.execute("INSERT INTO models (model_id, name, path) VALUES ('m', 'm', '/x')")
    for label, fn in [
        ("slice score_quantile [0, 0.5)", lambda: create_slice(store, "low", "score_quantile", {"model": "m", "hi": 0.5})),
        ("slice random_sample n/4", lambda: create_slice(store, "rnd", "random_sample", {"size": n // 4})),
        ("curriculum, 4 buckets",
         lambda: build_curriculum(store, CurriculumConfig(slice="low", name="cur", model="m", buckets=4))),
        ("split 0.2", lambda: split_slice(store, SplitConfig(slice="cur"))),
        ("export jsonl", lambda: export_slice(store, ExportConfig(slice="cur", out=tmp / "x.jsonl"))),
        ("export parquet", lambda: export_slice(store, ExportConfig(slice="cur", out=tmp / "x.parquet", format="parquet"))),
    ]:
        t = time.perf_counter()
        fn()
        print(f"{label:32s} {time.perf_counter() - t:6.2f} s")
