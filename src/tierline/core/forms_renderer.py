"""The form renderer: Django's templates, except the common widgets, rendered in Python.

Django renders each widget through two or three templates (and a <select> through three per
option). The ticket page carries two dozen fields in its action dialogs, and that cost tens of
milliseconds a page. The output is the same markup Django's templates produce
(tests/core/test_forms_renderer.py compares them).
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

_SELECT_TEMPLATES = {"django/forms/widgets/select.html"}
# Widgets whose template is just django/forms/widgets/input.html.
_INPUT_TEMPLATES = {
    f"django/forms/widgets/{name}.html"
    for name in (
        "input", "text", "number", "email", "url", "password", "hidden", "date", "datetime",
        "time", "search", "tel", "checkbox", "file",
    )
}  # fmt: skip
_TEXTAREA_TEMPLATES = {"django/forms/widgets/textarea.html"}


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


def render_input(widget: dict[str, Any]) -> SafeString:
    value = widget["value"]
    return format_html(
        '<input type="{}" name="{}"{}{}>',
        widget["type"],
        widget["name"],
        format_html(' value="{}"', str(value)) if value is not None else "",
        _attrs(widget["attrs"]),
    )


def render_textarea(widget: dict[str, Any]) -> SafeString:
    return format_html(
        '<textarea name="{}"{}>\n{}</textarea>',
        widget["name"],
        _attrs(widget["attrs"]),
        widget["value"] or "",
    )


class FormRenderer(DjangoTemplates):
    def render(self, template_name: str, context: dict, request=None) -> str:
        if template_name in _SELECT_TEMPLATES:
            return render_select(context["widget"])
        if template_name in _INPUT_TEMPLATES:
            return render_input(context["widget"])
        if template_name in _TEXTAREA_TEMPLATES:
            return render_textarea(context["widget"])
        return super().render(template_name, context, request)
