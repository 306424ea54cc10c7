"""Pages for the network, people and memberships (thin: parse, check, call, render)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


def home(request):
    return HttpResponse("SIG Hub")


@login_required
def my_memberships(request):
    return HttpResponse("My memberships")


@login_required
def network_office(request):
    return HttpResponse("Network office")
