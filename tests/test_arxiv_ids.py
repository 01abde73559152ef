import pytest
from django.core.exceptions import ValidationError

from papers.arxiv_ids import arxiv_version, parse_arxiv_id


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("2509.22445", "2509.22445"),
        ("2509.22445v2", "2509.22445"),
        ("  2509.22445v12 ", "2509.22445"),
        ("arXiv:2509.22445v1", "2509.22445"),
        ("https://arxiv.org/abs/2509.22445v2", "2509.22445"),
        ("http://export.arxiv.org/abs/2509.22445", "2509.22445"),
        ("https://arxiv.org/pdf/2509.22445v3.pdf", "2509.22445"),
        ("0704.0001", "0704.0001"),
        ("1412.9999v4", "1412.9999"),
        ("1501.00001", "1501.00001"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("hep-th/9901001v3", "hep-th/9901001"),
        ("math.CA/0611800v2", "math.CA/0611800"),
        ("https://arxiv.org/abs/math.CA/0611800", "math.CA/0611800"),
        ("cond-mat/0101001", "cond-mat/0101001"),
    ],
)
def test_identifiers_of_both_schemes_are_stored_without_version(raw, stored):
    assert parse_arxiv_id(raw) == stored


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "   ",
        "hello",
        "2509.2244",  # four digits after 2015
        "1412.00001",  # five digits before 2015
        "0703.0001",  # before the new scheme started
        "2513.22445",  # month 13
        "2509.22445v0",
        "2509.22445v",
        "2509.22445 extra",
        "HEP-TH/9901001",
        "hep-th/99010011",
        "hep-th/9913001",
        "https://example.com/abs/2509.22445",
        "2509.22445<script>",
    ],
)
def test_junk_is_refused_with_a_message_naming_the_value(junk):
    with pytest.raises(ValidationError) as caught:
        parse_arxiv_id(junk)
    assert "arXiv" in caught.value.messages[0]


def test_version_number_is_read_from_a_versioned_id():
    assert arxiv_version("2509.22445v2") == 2
    assert arxiv_version("hep-th/9901001v3") == 3
    assert arxiv_version("2509.22445") is None
