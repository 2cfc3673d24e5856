"""Stub: being written."""

from django.http import HttpResponse


def queue(request, *args, **kwargs):
    return HttpResponse("todo")


def export_csv(request, *args, **kwargs):
    return HttpResponse("todo")


def bulk(request, *args, **kwargs):
    return HttpResponse("todo")


def save_view(request, *args, **kwargs):
    return HttpResponse("todo")


def delete_view(request, *args, **kwargs):
    return HttpResponse("todo")


def search(request, *args, **kwargs):
    return HttpResponse("todo")
