"""Kubernetes naming rules for the metadata of generated manifests (PrometheusRule).

From the Kubernetes documentation ("Object Names and IDs", "Labels and Selectors"):
  * object names: DNS-1123 subdomain, at most 253 characters of lowercase letters, digits,
    '-' and '.', starting and ending with a letter or digit;
  * namespaces: DNS-1123 label, at most 63 characters of lowercase letters, digits and '-',
    starting and ending with a letter or digit;
  * label keys: an optional prefix (a DNS-1123 subdomain) and '/', then a name of at most 63
    characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit;
  * label values: empty, or at most 63 such characters.
The API server rejects a manifest that breaks them; promcontract refuses it first.
"""

from __future__ import annotations

import re

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_NAME_PART = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")

SUBDOMAIN_RULE = ("a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and "
                  "ending with a letter or digit, at most 253 characters")
LABEL_RULE = ("a DNS-1123 label: lowercase letters, digits and '-', starting and ending with "
              "a letter or digit, at most 63 characters")
KEY_RULE = ("an optional DNS-1123 subdomain prefix and '/', then a name of at most 63 letters, "
            "digits, '-', '_' or '.', starting and ending with a letter or digit")
VALUE_RULE = ("empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending "
              "with a letter or digit")


def is_subdomain(text: str) -> bool:
    return len(text) <= 253 and bool(_SUBDOMAIN.match(text))


def is_label(text: str) -> bool:
    return len(text) <= 63 and bool(_LABEL.match(text))


def is_label_key(text: str) -> bool:
    prefix, slash, name = text.rpartition("/")
    if slash and not (prefix and is_subdomain(prefix)):
        return False
    return len(name) <= 63 and bool(_NAME_PART.match(name))


def is_label_value(text: str) -> bool:
    return text == "" or (len(text) <= 63 and bool(_NAME_PART.match(text)))


def name_from(words: list[str]) -> str:
    """A valid object name made of ``words`` (contract ids may hold '_' or capitals)."""
    text = re.sub(r"[^a-z0-9.-]+", "-", "-".join(words).lower())
    text = re.sub(r"-{2,}", "-", text).strip("-.")[:253].strip("-.")
    return text
