"""The site's URLs plus ``/bench/bare/``, the floor of the load test (mounted only here)."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_safe

from config.urls import urlpatterns as site_urlpatterns


@require_safe
def bare(request):
    """The least a Django view in these settings can do: the middleware, then 2 bytes."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *site_urlpatterns]
