"""One torch thread for the tiny models here: on a shared 2-core machine, thread hand-offs cost more than
the 32-wide matrix products themselves (measured: a tiny-model evaluation 9.4 s with 2 threads, 2.0 s with 1)."""

import pytest


@pytest.fixture(autouse=True)
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
