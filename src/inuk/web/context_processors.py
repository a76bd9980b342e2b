from django.conf import settings
from django.urls import reverse


def service(request):
    """What every page's layout needs: the login link, and the menu the user may see."""
    from inuk.web.navigation import nav_items

    return {
        "debug": settings.DEBUG,
        "login_url": reverse("login"),
        "nav_items": nav_items(request),
    }
