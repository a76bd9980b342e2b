"""The main menu leads to the delivery pages only those who may use them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

UPLOAD = 'href="/leveranser/skicka/"'
LIST = 'href="/leveranser/"'


@pytest.mark.parametrize(
    ("member", "upload", "deliveries"),
    [
        ("vasby_reporter", True, True),
        ("vasby_analyst", False, True),
        ("vasby_admin", False, False),
        ("af_admin", False, True),
        ("af_analyst", False, False),
        ("identity_officer", False, True),
    ],
)
def test_the_menu_offers_what_the_user_may_do(cast, client_as, member, upload, deliveries):
    page = client_as(getattr(cast, member)).get("/format/").content.decode()
    menu = page[page.index('<nav class="wrap site-nav"') : page.index("</nav>")]
    assert (UPLOAD in menu) == upload
    assert (LIST in menu) == deliveries


def test_the_menu_names_the_pages_in_swedish(cast, client_as):
    page = client_as(cast.vasby_reporter).get("/leveranser/").content.decode()
    assert '<a href="/leveranser/skicka/" >Skicka en leverans</a>' in page
    assert '<a href="/leveranser/" aria-current="page">Leveranser</a>' in page
