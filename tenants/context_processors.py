from django.conf import settings


def brand(request):
    return {"brand": getattr(request, "brand", None), "ROOT_DOMAIN": settings.ROOT_DOMAIN}
