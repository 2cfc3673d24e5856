"""Stub: being written."""

from django.http import HttpResponse


def home(request, *args, **kwargs):
    return HttpResponse("todo")


def new(request, *args, **kwargs):
    return HttpResponse("todo")


def detail(request, *args, **kwargs):
    return HttpResponse("todo")


def action(request, *args, **kwargs):
    return HttpResponse("todo")
