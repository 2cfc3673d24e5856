"""Stub: being written."""

from django.http import HttpResponse


def day_list(request, *args, **kwargs):
    return HttpResponse("todo")


def create(request, *args, **kwargs):
    return HttpResponse("todo")


def detail(request, *args, **kwargs):
    return HttpResponse("todo")


def action(request, *args, **kwargs):
    return HttpResponse("todo")
