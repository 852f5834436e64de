"""The API reference page: the OpenAPI document made readable for a developer outside the team,
generated from the document itself (so the two never disagree) and served by the application."""

import re

from markupsafe import Markup, escape

METHODS = ("get", "post", "patch", "put", "delete")
_CODE = re.compile(r"`([^`]+)`")


def code_spans(text):
    """`text` as HTML with its `back-quoted` parts as code."""
    return Markup(_CODE.sub(lambda m: f"<code>{m[1]}</code>", str(escape(text or ""))))


def resolve(spec, node):
    """A `$ref` followed to what it names (one level, as the document uses them)."""
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def type_label(schema):
    """A short description of a schema: `Contact`, `array of Tag`, `string (date)`, `one of
    a, b`. A reference names the schema (the page links it)."""
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "enum" in schema:
        return "one of " + ", ".join(str(value) for value in schema["enum"] if value is not None)
    for combined in ("oneOf", "anyOf"):
        if combined in schema:
            return " or ".join(type_label(part) for part in schema[combined])
    kind = schema.get("type", "")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array":
        return f"array of {type_label(schema.get('items', {}))}"
    if "format" in schema:
        kind += f" ({schema['format']})"
    return kind


def operations(spec):
    """[(tag, [operation])], in the document's order; each operation a dict of what the page
    shows: method, path, summary, description, parameters, request body and responses."""
    groups = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            # The path's own parameters (an id) first, then the operation's.
            parameters = [resolve(spec, p) for p in (*item.get("parameters", []),
                                                     *operation.get("parameters", []))]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            responses = []
            for status, response in operation["responses"].items():
                content = resolve(spec, response).get("content", {}).get("application/json", {})
                responses.append({"status": status,
                                  "description": resolve(spec, response).get("description", ""),
                                  "schema": type_label(content.get("schema"))})
            groups.setdefault((operation.get("tags") or ["other"])[0], []).append({
                "id": operation.get("operationId", f"{method}-{path}"),
                "method": method.upper(), "path": path,
                "summary": operation.get("summary", ""),
                "description": operation.get("description", ""),
                "parameters": [{"name": p["name"], "in": p["in"],
                                "required": p.get("required", False),
                                "type": type_label(p.get("schema", {})),
                                "description": p.get("description", "")} for p in parameters],
                "body": type_label(body["schema"]) if body else None,
                "example": body.get("example") if body else None,
                "responses": responses,
            })
    return list(groups.items())


def schemas(spec):
    """[(name, description, values, [property], example)] of the document's schemas, by
    name; the example is the schema's first, or None."""
    found = []
    for name, schema in sorted(spec["components"]["schemas"].items()):
        required = set(schema.get("required", []))
        properties = [{"name": prop, "type": type_label(details),
                       "required": prop in required,
                       "read_only": details.get("readOnly", False),
                       "description": details.get("description", "")}
                      for prop, details in schema.get("properties", {}).items()]
        values = [value for value in schema.get("enum", []) if value is not None]
        example = (schema.get("examples") or [None])[0]
        found.append((name, schema.get("description", ""), values, properties, example))
    return found
