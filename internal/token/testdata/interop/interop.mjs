// Interop with panva's jose and paseto (npm), driven by interop_test.go.
//   node interop.mjs mint    -> prints JSON: tokens minted here, and the keys to check them
//   node interop.mjs verify  -> reads JSON on stdin (tokens drawbridge minted), prints verdicts
import * as jose from 'jose'
import { PublicProtocol } from 'paseto'
import * as v4public from 'paseto/v4/public'

const read = async () => {
  let s = ''
  for await (const c of process.stdin) s += c
  return JSON.parse(s)
}

const iss = 'https://node.test'
const aud = 'https://api.test'
const pub = new PublicProtocol(v4public.GenerateKeyPairFactory, v4public.SignFactory, v4public.VerifyFactory,
  v4public.ExportPublicKeyFactory, v4public.ImportPublicKeyFactory)

async function mint(input) {
  const out = { jwks: { keys: [] }, tokens: {} }
  for (const alg of ['ES256', 'EdDSA', 'RS256', 'PS256']) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true })
    const jwk = await jose.exportJWK(publicKey)
    jwk.kid = 'node-' + alg
    jwk.alg = alg
    jwk.use = 'sig'
    out.jwks.keys.push(jwk)
    out.tokens[alg] = await new jose.SignJWT({ sub: 'node-user', scope: 'orders:read' })
      .setProtectedHeader({ alg, kid: jwk.kid, typ: 'at+jwt' })
      .setIssuer(iss).setAudience(aud).setIssuedAt().setExpirationTime('10m')
      .sign(privateKey)
  }
  // A JWS nested in a JWE to drawbridge's P-256 key.
  const recipient = await jose.importJWK(input.recipient, 'ECDH-ES+A256KW')
  out.tokens['JWE'] = await new jose.CompactEncrypt(new TextEncoder().encode(out.tokens.ES256))
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT', kid: input.recipient.kid })
    .encrypt(recipient)
  // PASETO v4.public.
  const { publicKey, secretKey } = await pub.GenerateKeyPair()
  out.paserk = await pub.ExportPublicKey(publicKey)
  const now = new Date()
  out.tokens['v4.public'] = await pub.Sign(secretKey, {
    iss, aud, sub: 'node-user', iat: now.toISOString(), exp: new Date(now.getTime() + 600000).toISOString(),
  })
  return out
}

async function verify(input) {
  const verdicts = {}
  const jwks = jose.createLocalJWKSet(input.jwks)
  for (const [name, tok] of Object.entries(input.tokens)) {
    try {
      const { payload, protectedHeader } = await jose.jwtVerify(tok, jwks, {
        issuer: input.iss, audience: input.aud, typ: 'at+jwt', algorithms: [name],
      })
      verdicts[name] = payload.sub === 'go-user' && protectedHeader.alg === name ? 'ok' : 'wrong claims'
    } catch (e) {
      verdicts[name] = 'refused: ' + e.code
    }
  }
  try {
    const key = await jose.importJWK(input.decrypt, 'ECDH-ES+A256KW')
    const { plaintext, protectedHeader } = await jose.compactDecrypt(input.jwe, key, { keyManagementAlgorithms: ['ECDH-ES+A256KW'] })
    const inner = new TextDecoder().decode(plaintext)
    const { payload } = await jose.jwtVerify(inner, jwks, { issuer: input.iss, audience: input.aud })
    verdicts['JWE'] = protectedHeader.cty === 'JWT' && payload.sub === 'go-user' ? 'ok' : 'wrong'
  } catch (e) {
    verdicts['JWE'] = 'refused: ' + e.code
  }
  try {
    const key = await pub.ImportPublicKey(input.paserk)
    const { claims } = await pub.Verify(key, input.paseto)
    verdicts['v4.public'] = claims.sub === 'go-user' ? 'ok' : 'wrong'
  } catch (e) {
    verdicts['v4.public'] = 'refused: ' + (e.code || e.message)
  }
  // And a tampered token must fail there too.
  try {
    await jose.jwtVerify(input.tampered, jwks)
    verdicts['tampered'] = 'accepted'
  } catch (e) {
    verdicts['tampered'] = 'refused'
  }
  return verdicts
}

const mode = process.argv[2]
const input = await read()
const out = mode === 'mint' ? await mint(input) : await verify(input)
process.stdout.write(JSON.stringify(out))
