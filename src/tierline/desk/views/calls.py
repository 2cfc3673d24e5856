"""Stub: being written."""

from django.http import HttpResponse


def call_list(request, *args, **kwargs):
    return HttpResponse("todo")


def call_new(request, *args, **kwargs):
    return HttpResponse("todo")


def call_report(request, *args, **kwargs):
    return HttpResponse("todo")


def call_report_csv(request, *args, **kwargs):
    return HttpResponse("todo")


def person_lookup(request, *args, **kwargs):
    return HttpResponse("todo")
