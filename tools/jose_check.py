"""A JOSE implementation independent of Bedside (Python's jwcrypto), for the API tests:
`decrypt KEY FILE` opens the compact JWE in FILE with the base64url key KEY and prints its
`cty` and then its plaintext; `encrypt KEY CTY FILE` prints FILE's bytes as a compact JWE with
alg dir, enc A256GCM and that cty. Exits 1 when the JWE does not open."""

import json
import sys

from jwcrypto import jwe, jwk


def main(args: list[str]) -> int:
    mode, key = args[0], jwk.JWK(kty="oct", k=args[1])
    if mode == "decrypt":
        token = jwe.JWE()
        try:
            with open(args[2], encoding="ascii") as f:
                token.deserialize(f.read().strip(), key=key)
        except Exception as e:  # noqa: BLE001 - reported as the test's failure
            print(f"does not open: {e}", file=sys.stderr)
            return 1
        header = token.jose_header
        if header.get("alg") != "dir" or header.get("enc") != "A256GCM":
            print(f"unexpected header {header}", file=sys.stderr)
            return 1
        sys.stdout.write(header.get("cty", "") + "\n")
        sys.stdout.buffer.write(token.payload)
        return 0
    if mode == "encrypt":
        with open(args[3], "rb") as f:
            plaintext = f.read()
        header = json.dumps({"alg": "dir", "enc": "A256GCM", "cty": args[2]})
        token = jwe.JWE(plaintext, protected=header)
        token.add_recipient(key)
        print(token.serialize(compact=True))
        return 0
    print(f"unknown mode {mode}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
