#!/usr/bin/env python3
"""structural.py OUT SEED...: structural variants of the payload seeds (compare-outcomes.sh).
For every map in the payload: each entry duplicated (right after itself and at the map's end), dropped, its key made an integer,
its value made a too-deep nest, and an unknown key added with a malformed value.
Writes MODE-prefixed files (as fuzz-snapshot reads them) into OUT."""
import struct, sys, os

def dec(b, i):
    t = b[i]
    if t <= 0x7f: return ('u', t), i + 1
    if t >= 0xe0: return ('i', t - 256), i + 1
    if 0x80 <= t <= 0x8f: return dmap(b, i + 1, t & 15)
    if 0x90 <= t <= 0x9f: return darr(b, i + 1, t & 15)
    if 0xa0 <= t <= 0xbf: n = t & 31; return ('s', b[i+1:i+1+n]), i + 1 + n
    if t == 0xc0: return ('nil',), i + 1
    if t in (0xc2, 0xc3): return ('raw', b[i:i+1]), i + 1
    if t in (0xc4, 0xc5, 0xc6):
        w = {0xc4: 1, 0xc5: 2, 0xc6: 4}[t]; n = int.from_bytes(b[i+1:i+1+w], 'big')
        return ('b', bytearray(b[i+1+w:i+1+w+n])), i + 1 + w + n
    if t in (0xca, 0xcb): w = 4 if t == 0xca else 8; return ('raw', b[i:i+1+w]), i + 1 + w
    if 0xcc <= t <= 0xd3: w = 1 << ((t - 0xcc) & 3); return ('raw', b[i:i+1+w]), i + 1 + w
    if t in (0xd9, 0xda, 0xdb):
        w = 1 << (t - 0xd9); n = int.from_bytes(b[i+1:i+1+w], 'big')
        return ('s', b[i+1+w:i+1+w+n]), i + 1 + w + n
    if t in (0xdc, 0xdd):
        w = 2 if t == 0xdc else 4; return darr(b, i + 1 + w, int.from_bytes(b[i+1:i+1+w], 'big'))
    if t in (0xde, 0xdf):
        w = 2 if t == 0xde else 4; return dmap(b, i + 1 + w, int.from_bytes(b[i+1:i+1+w], 'big'))
    raise ValueError(hex(t))

def darr(b, i, n):
    out = []
    for _ in range(n):
        v, i = dec(b, i); out.append(v)
    return ('a', out), i

def dmap(b, i, n):
    out = []
    for _ in range(n):
        k, i = dec(b, i); v, i = dec(b, i); out.append([k, v])
    return ('m', out), i

def hdr(n, fix, w16, w32):
    if n < 16: return bytes([fix | n])
    if n < 65536: return bytes([w16]) + n.to_bytes(2, 'big')
    return bytes([w32]) + n.to_bytes(4, 'big')

def enc(v):
    t = v[0]
    if t == 'u': return bytes([v[1]])
    if t == 'i': return bytes([v[1] + 256])
    if t == 'nil': return b'\xc0'
    if t == 'raw': return v[1]
    if t == 's':
        n = len(v[1])
        return (bytes([0xa0 | n]) if n < 32 else b'\xd9' + bytes([n]) if n < 256 else b'\xda' + n.to_bytes(2, 'big')) + v[1]
    if t == 'b': return b'\xc6' + len(v[1]).to_bytes(4, 'big') + bytes(v[1])
    if t == 'a': return hdr(len(v[1]), 0x90, 0xdc, 0xdd) + b''.join(enc(x) for x in v[1])
    if t == 'm': return hdr(len(v[1]), 0x80, 0xde, 0xdf) + b''.join(enc(k) + enc(x) for k, x in v[1])
    raise ValueError(t)

def maps(v, path=()):
    """every map in v, with a path to it"""
    if v[0] == 'm':
        yield path
        for j, (k, x) in enumerate(v[1]): yield from maps(x, path + (j,))
    elif v[0] == 'a':
        for j, x in enumerate(v[1]): yield from maps(x, path + (j,))

def at(v, path):
    for j in path:
        v = v[1][j][1] if v[0] == 'm' else v[1][j]
    return v

import copy
DEEP = ('raw', b'\x91' * 200 + b'\xc0')
out = sys.argv[1]
count = 0
for seed in sys.argv[2:]:
    raw = open(seed, 'rb').read()
    mode, pl = raw[0], raw[1:]
    root, end = dec(pl, 0)
    assert end == len(pl) and enc(root) == pl, seed
    name = os.path.basename(seed)
    for path in list(maps(root)):
        n = len(at(root, path)[1])
        variants = []
        for j in range(n):
            for kind in ('dup-next', 'dup-end', 'drop', 'intkey', 'deep', 'dup-first-value'):
                r = copy.deepcopy(root); m = at(r, path)[1]
                if kind == 'dup-next': m.insert(j + 1, copy.deepcopy(m[j]))
                elif kind == 'dup-end': m.append(copy.deepcopy(m[j]))
                elif kind == 'drop': del m[j]
                elif kind == 'intkey': m[j][0] = ('u', 7)
                elif kind == 'deep': m[j][1] = DEEP
                elif kind == 'dup-first-value':  # key repeated with another entry's value
                    m.append([copy.deepcopy(m[j][0]), copy.deepcopy(m[(j + 1) % n][1])])
                variants.append((f'{j}-{kind}', r))
        for kind in ('unknown-deep', 'unknown-bad'):
            r = copy.deepcopy(root); m = at(r, path)[1]
            m.insert(0, [('s', b'x-new'), DEEP if kind == 'unknown-deep' else ('raw', b'\xc1')])
            variants.append((kind, r))
        for tag, r in variants:
            p = '-'.join(map(str, path)) or 'top'
            data = enc(r)
            # keep the bodies where the writer puts them (page-aligned in the file: 22
            # bytes of envelope head before the payload), so v2 checks past alignment run
            if r[0] == 'm' and any(k == ('s', b'pad') for k, _ in r[1]):
                for k, v in r[1]:
                    if k == ('s', b'pad') and v[0] == 'b':
                        v[1][:] = b''
                for _ in range(2):
                    data = enc(r)
                    i = data.rfind(b'\xa6bodies\xc6')
                    if i < 0:
                        break
                    off = 22 + i + 7 + 5
                    for k, v in r[1]:
                        if k == ('s', b'pad') and v[0] == 'b':
                            v[1][:] = bytes(len(v[1]) + (-off) % 4096)
                data = enc(r)
            with open(f'{out}/{name}.{p}.{tag}', 'wb') as f:
                f.write(bytes([mode]) + data)
            count += 1
print(count, 'structural variants')
