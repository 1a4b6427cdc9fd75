/*
 * fuzz_policy: policy.render (lua/tcrun/policy.lua) with any template and
 * any values.  The input is the template, 0x00, then the values of
 * environment, owner_uin, env_region, env_id, server_region and
 * instance_id, split at 0x01.  Whenever render returns a document:
 *  - it is JSON within CAM's 6144 characters;
 *  - its structure (types, object sizes, array lengths) is exactly that of
 *    the same template rendered with plain values: a value can only ever
 *    be text inside its string, never a new statement, action or resource.
 */
#include "fuzz_lua.h"

static const char check[] =
	"local data = ...\n"
	"local policy = require 'tcrun.policy'\n"
	"local json = require 'tcrun.json'\n"
	"local tpl, rest = data:match('^(.-)%z(.*)$')\n"
	"if not tpl then tpl, rest = data, '' end\n"
	"local names = { 'environment', 'owner_uin', 'env_region', 'env_id',\n"
	"                'server_region', 'instance_id' }\n"
	"local plain = { environment = 'dev', owner_uin = '1', env_region = 'ap-x',\n"
	"                env_id = 'e', server_region = 'ap-y', instance_id = 'i' }\n"
	"local vars, i = {}, 0\n"
	"for v in (rest .. '\\1'):gmatch('(.-)\\1') do\n"
	"  i = i + 1\n"
	"  if names[i] then vars[names[i]] = v end\n"
	"end\n"
	"for _, n in ipairs(names) do if vars[n] == nil then vars[n] = plain[n] end end\n"
	"local path = TMP .. '-policy.json'\n"
	"local f = assert(io.open(path, 'wb')) f:write(tpl) f:close()\n"
	"local function shape(v)\n"
	"  local t = type(v)\n"
	"  if t ~= 'table' then return t == 'string' and 's' or tostring(math.type(v) or t) end\n"
	"  local parts = {}\n"
	"  for k, x in pairs(v) do parts[#parts + 1] = (math.type(k) and (k .. '=') or '') .. shape(x) end\n"
	"  table.sort(parts)\n"
	"  return '{' .. table.concat(parts, ',') .. '}'\n"
	"end\n"
	"local doc = policy.render(path, vars)\n"
	"if doc then\n"
	"  assert(#doc <= 6144, 'within 6144 characters')\n"
	"  local got = assert(json.decode(doc), 'a document is JSON')\n"
	"  local base = policy.render(path, plain)\n"
	"  assert(base, 'rendered with fuzz values but not with plain ones')\n"
	"  assert(shape(got) == shape(json.decode(base)),\n"
	"         'a value changed the structure: ' .. doc)\n"
	"end\n"
	"os.remove(path)\n";

FUZZ_LUA_TARGET("fuzz_policy", check)
