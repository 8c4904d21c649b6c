"""Interop with the Python joserfc library, driven by interop_test.go.

  python3 interop_joserfc.py mint    -> prints JSON: tokens minted here, and the keys to check them
  python3 interop_joserfc.py verify  -> reads JSON on stdin (tokens drawbridge minted), prints verdicts
"""
import json
import sys
import time
import warnings

from joserfc import jwe, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

# EdDSA is deprecated by RFC 9864 in favour of Ed25519; it is still what
# deployed issuers send, and what this test exercises.
warnings.simplefilter("ignore")

ISS, AUD = "https://python.test", "https://api.test"
ALGS = ["ES256", "EdDSA", "RS256", "PS256"]
JWE_ALGS = ["ECDH-ES+A256KW", "A256GCM"]


def new_key(alg):
    params = {"kid": "py-" + alg, "alg": alg, "use": "sig"}
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=params)
    if alg == "EdDSA":
        return OKPKey.generate_key("Ed25519", parameters=params)
    return RSAKey.generate_key(2048, parameters=params)


def mint(inp):
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "sub": "python-user", "iat": now, "exp": now + 600}
    keys, tokens = [], {}
    for alg in ALGS:
        k = new_key(alg)
        keys.append(k)
        tokens[alg] = jwt.encode({"alg": alg, "kid": k.kid, "typ": "at+jwt"}, claims, k, algorithms=[alg])
    recipient = ECKey.import_key(inp["recipient"])
    tokens["JWE"] = jwe.encrypt_compact(
        {"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "cty": "JWT", "kid": inp["recipient"]["kid"]},
        tokens["ES256"].encode(), recipient, algorithms=JWE_ALGS)
    return {"jwks": KeySet(keys).as_dict(private=False), "tokens": tokens}


def check(tok, keys, alg, iss, aud):
    t = jwt.decode(tok, keys, algorithms=[alg])
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": iss},
                          aud={"essential": True, "value": aud},
                          exp={"essential": True}).validate(t.claims)
    if t.header.get("typ") != "at+jwt" or t.header.get("alg") != alg:
        raise ValueError("header %r" % t.header)
    return t.claims


def verify(inp):
    keys = KeySet.import_key_set(inp["jwks"])
    verdicts = {}
    for alg, tok in inp["tokens"].items():
        try:
            verdicts[alg] = "ok" if check(tok, keys, alg, inp["iss"], inp["aud"])["sub"] == "go-user" else "wrong claims"
        except (JoseError, ValueError) as e:
            verdicts[alg] = "refused: %s" % e
    try:
        obj = jwe.decrypt_compact(inp["jwe"], ECKey.import_key(inp["decrypt"]), algorithms=JWE_ALGS)
        claims = check(obj.plaintext.decode(), keys, "ES256", inp["iss"], inp["aud"])
        ok = obj.protected.get("cty") == "JWT" and claims["sub"] == "go-user"
        verdicts["JWE"] = "ok" if ok else "wrong"
    except (JoseError, ValueError) as e:
        verdicts["JWE"] = "refused: %s" % e
    try:
        check(inp["tampered"], keys, "ES256", inp["iss"], inp["aud"])
        verdicts["tampered"] = "accepted"
    except (JoseError, ValueError):
        verdicts["tampered"] = "refused"
    return verdicts


if __name__ == "__main__":
    inp = json.load(sys.stdin)
    out = mint(inp) if sys.argv[1] == "mint" else verify(inp)
    json.dump(out, sys.stdout)
