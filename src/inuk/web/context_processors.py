from django.conf import settings


def service(request):
    return {"service_name": "INUK", "debug": settings.DEBUG}
