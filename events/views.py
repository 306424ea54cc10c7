"""Pages for groups, meetings and calendar feeds."""

from django.http import HttpResponse


def group_detail(request, slug):
    return HttpResponse(slug)


def meeting_detail(request, pk):
    return HttpResponse(str(pk))
