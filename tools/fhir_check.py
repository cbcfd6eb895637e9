"""Checks a FHIR Bundle (a JSON file) against the FHIR R4 4.0.1 models of `fhir.resources`
6.1.0, an implementation independent of Bedside: every resource is parsed with its own type's
model, which refuses unknown elements, wrong types and missing required ones. Exits 1 with the
errors when anything is invalid. Used by the API tests (BEDSIDE_TEST_CHECKERS)."""

import json
import sys

import fhir.resources
from fhir.resources import construct_fhir_element
from fhir.resources.bundle import Bundle


def main(path: str) -> int:
    if fhir.resources.__fhir_version__ != "4.0.1":
        print(f"expected the R4 4.0.1 models, found {fhir.resources.__fhir_version__}", file=sys.stderr)
        return 2
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    errors = []
    try:
        Bundle.parse_obj(data)
    except Exception as e:  # noqa: BLE001 - the library's validation error, reported as is
        errors.append(f"Bundle: {e}")
    kinds = {}
    for entry in data.get("entry", []):
        resource = entry.get("resource", {})
        kind = resource.get("resourceType", "?")
        kinds[kind] = kinds.get(kind, 0) + 1
        try:
            construct_fhir_element(kind, resource)
        except Exception as e:  # noqa: BLE001
            errors.append(f"{kind}/{resource.get('id')}: {e}")
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    print(f"valid FHIR R4 {fhir.resources.__fhir_version__}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
