import pytest

from datacomp.errors import DatacompError
from datacomp.models.mixture import check_domains, format_mixture, parse_mixture


def test_weights_are_normalised_in_order():
    assert parse_mixture("literature=0.7,code=0.3") == pytest.approx({"literature": 0.7, "code": 0.3})
    mixture = parse_mixture("code=3, literature=1")
    assert list(mixture) == ["code", "literature"]
    assert mixture == pytest.approx({"code": 0.75, "literature": 0.25})
    assert parse_mixture("code") == {"code": 1.0}
    assert parse_mixture({"a": 2, "b": 2}) == {"a": 0.5, "b": 0.5}
    assert format_mixture({"a": 0.5, "b": 0.5}) == "a=0.5,b=0.5"


@pytest.mark.parametrize("spec, message", [
    ("literature=abc", "weight 'abc' of domain 'literature' is not a number"),
    ("literature=0.7,code=-1", "weight of domain 'code' must be a positive number"),
    ("code=0", "weight of domain 'code' must be a positive number"),
    ("code=1,code=2", "names domain 'code' twice"),
    ("", "mixture is empty"),
    ("co de=1", "'co de' is not a valid domain name"),
    ("code=inf", "weight of domain 'code' must be a positive number"),
])
def test_bad_mixtures_are_named(spec, message):
    with pytest.raises(DatacompError, match=message):
        parse_mixture(spec)


def test_unknown_domain_is_named_with_the_known_ones():
    with pytest.raises(DatacompError, match=r"mixture domain 'poetry' has no documents in the store; "
                                            r"domains with documents: code \(5 docs\), literature \(3 docs\)"):
        check_domains({"poetry": 0.5, "code": 0.5}, {"literature": 3, "code": 5})
    check_domains({"code": 1.0}, {"code": 5})
