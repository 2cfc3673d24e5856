"""Stub: being written."""

from django.http import HttpResponse


def create(request, *args, **kwargs):
    return HttpResponse("todo")


def detail(request, *args, **kwargs):
    return HttpResponse("todo")


def action(request, *args, **kwargs):
    return HttpResponse("todo")


def download(request, *args, **kwargs):
    return HttpResponse("todo")
