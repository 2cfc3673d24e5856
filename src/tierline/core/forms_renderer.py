"""The form renderer: Django's templates, except <select>, which is rendered in Python.

Django renders a <select> through three templates per option. The ticket page carries a dozen
selects (assign, status, category, teams, resolution codes...) and that cost tens of
milliseconds a page. The output is the same markup Django's templates produce.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

_SELECT_TEMPLATES = {"django/forms/widgets/select.html"}


def _attrs(attrs: dict[str, Any]) -> SafeString:
    """Like django/forms/widgets/attrs.html: True is a bare attribute, False is left out."""
    parts = []
    for name, value in attrs.items():
        if value is False or value is None:
            continue
        if value is True:
            parts.append(format_html(" {}", name))
        else:
            parts.append(format_html(' {}="{}"', name, str(value)))
    return mark_safe("".join(parts))  # noqa: S308 - every part was escaped by format_html


def _option(option: dict[str, Any]) -> SafeString:
    return format_html(
        '<option value="{}"{}>{}</option>',
        "" if option["value"] is None else str(option["value"]),
        _attrs(option["attrs"]),
        option["label"],
    )


def render_select(widget: dict[str, Any]) -> SafeString:
    groups = []
    for group_name, options, _index in widget["optgroups"]:
        body = mark_safe("".join(_option(o) for o in options))  # noqa: S308 - escaped above
        if group_name:
            groups.append(format_html('<optgroup label="{}">{}</optgroup>', group_name, body))
        else:
            groups.append(body)
    return format_html(
        '<select name="{}"{}>{}</select>',
        widget["name"],
        _attrs(widget["attrs"]),
        mark_safe("".join(conditional_escape(g) for g in groups)),  # noqa: S308
    )


class FormRenderer(DjangoTemplates):
    def render(self, template_name: str, context: dict, request=None) -> str:
        if template_name in _SELECT_TEMPLATES:
            return render_select(context["widget"])
        return super().render(template_name, context, request)
