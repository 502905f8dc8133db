"""``{% int_url %}`` gives exactly what ``{% url %}`` gives, from a shape reversed once."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import reverse, set_script_prefix

from facilitation.templatetags.live_urls import _shape, int_reverse


@pytest.fixture(autouse=True)
def fresh_shapes():
    _shape.cache_clear()
    yield
    set_script_prefix("/")
    _shape.cache_clear()


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("facilitation:comment_react", (1, 2)),
        ("facilitation:comment_edit", (12, 987_654_301)),  # an id equal to a stand-in is still filled in
        ("facilitation:comment_new", (7,)),
        ("facilitation:threads", (3, 0)),
        ("home", ()),
    ],
)
def test_the_same_url_as_reverse(name, args):
    assert int_reverse(name, *args) == reverse(name, args=args)
    assert int_reverse(name, *args) == reverse(name, args=args)  # and again, from the cached shape


def test_each_script_prefix_has_its_own_shape():
    first = int_reverse("facilitation:comment_react", 1, 2)
    set_script_prefix("/kehittamo/")
    assert int_reverse("facilitation:comment_react", 1, 2) == "/kehittamo" + first
    assert _shape.cache_info().currsize == 2


def test_other_arguments_are_reversed_as_usual():
    # Not whole numbers: no shape is made, and reverse answers (or refuses) as {% url %} would.
    assert int_reverse("facilitation:comment_react", "5", 6) == reverse("facilitation:comment_react", args=["5", 6])
    assert _shape.cache_info().currsize == 0
    with pytest.raises(Exception, match="Reverse"):
        int_reverse("facilitation:comment_react", -1, 6)


def test_the_tag_renders_like_url():
    template = Template(
        "{% load live_urls %}{% int_url 'facilitation:comment_hide' a b %}|{% url 'facilitation:comment_hide' a b %}"
    )
    ours, django = template.render(Context({"a": 4, "b": 55})).split("|")
    assert ours == django == "/w/4/comments/55/hide/"
