#!/usr/bin/env tcrun
-- base64.lua: RFC 4648 vectors both ways, all 256 bytes, 64 KiB, bad input.
local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")
local base64 = require "tcrun.base64"

-- RFC 4648 section 10
local vectors = {
  { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
  { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
}
for _, v in ipairs(vectors) do
  t.is(base64.encode(v[1]), v[2], ("encode %q"):format(v[1]))
  t.is(base64.decode(v[2]), v[1], ("decode %q"):format(v[2]))
end
t.is(base64.encode("\xfb\xff\xbf"), "+/+/", "uses + and /")

local all = {}
for i = 0, 255 do all[#all + 1] = string.char(i) end
all = table.concat(all)
for cut = 0, 2 do
  local s = all:sub(1, #all - cut)
  t.is(base64.decode(base64.encode(s)), s, ("round trip of %d bytes 0..%d"):format(#s, #s - 1))
end

local big = string.rep(all, 256)  -- 64 KiB
local started = os.clock()
local enc = base64.encode(big)
local dec = base64.decode(enc)
local took = os.clock() - started
t.ok(dec == big and #enc == 87384, "64 KiB round trip")
t.ok(took < 0.5, "64 KiB both ways in under 0.5 s CPU", ("took %.3f s"):format(took))

-- bad input: name, input, distinctive part of the message
local bad = {
  { "length not a multiple of 4", "Zm9", "length 3 is not a multiple of 4" },
  { "character outside the alphabet", "Zm9v!mFy", "character \"!\" at position 5" },
  { "URL-safe alphabet", "Zm9v-_Fy", "character \"-\" at position 5" },
  { "whitespace", "Zm9v\nYmFy", "not a multiple of 4" },
  { "space inside", "Zm9 Ym==", "character \" \" at position 4" },
  { "padding in the middle", "Zg==Zm8=", "misplaced '=' at position 3" },
  { "three padding characters", "Z===", "misplaced '=' at position 2" },
  { "padding then data", "Zm=v", "misplaced '=' at position 3" },
  { "non-zero padding bits (two =)", "Zh==", "non-zero bits in the padding" },
  { "non-zero padding bits (one =)", "Zm9=", "non-zero bits in the padding" },
}
for _, c in ipairs(bad) do
  local got, err = base64.decode(c[2])
  t.ok(got == nil and err and err:find(c[3], 1, true), "rejects " .. c[1],
       ("got: %s, %s\nwant message with: %s"):format(tostring(got), tostring(err), c[3]))
end

t.done()
