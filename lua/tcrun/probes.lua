-- probes.lua: an identity holding exactly one policy, for live checks of
-- a role's intents (policy_rollout.lua).
--   With one account per environment: a session of the role
--     tcrun-<role> itself in the environment's account (it holds exactly
--     tcrun-role-<role>), assumed by the host with tcrun's credentials,
--     which the role trusts.
--   In one account: the sub-user tcrun-probe-<role> (no console login,
--     no other policy), with the policy attached for the check and a
--     temporary access key, both taken away by close().
--   local id = probes.identity(run, target); ... tc.call(..., id.opts); id.close()
local tc = require "tc"
local api = require "tcrun.api"

local M = {}

M.USER = "tcrun-probe"      -- the prefix of the probe users' names
local KEY_NOTE = "tcrun-probe"

local roles = {}

local function role_identity(t)
  local key = t.owner .. "/" .. t.role
  roles[key] = roles[key] or tc.account { name = ("%s-%s-probe"):format(t.env, t.role), uin = t.owner,
                                          role = "tcrun-" .. t.role, duration = 900,
                                          session = "tcrun-probe" }
  return { opts = { account = roles[key] }, close = function() end }
end

-- A probe user's UIN, made when missing.
local function probe_user(name)
  local u = api.get_user(name)
  if u then return u.Uin end
  return tc.call("cam", "AddUser", { Name = name, ConsoleLogin = 0, UseApi = 0,
                                     Remark = "tcrun: checks role intents; holds no policy between checks" },
                 { idempotent = false, note = "the probe identity of policy_rollout.lua" }).Uin
end

local function user_identity(t)
  local uin = probe_user(M.USER .. "-" .. t.role)
  -- Whatever a past run left attached or issued goes first.
  for _, p in ipairs(api.cam_pages("ListAttachedUserPolicies", { TargetUin = uin }, "List")) do
    tc.call("cam", "DetachUserPolicy", { PolicyId = p.PolicyId, DetachUin = uin },
            { note = "probe: left from an earlier check" })
  end
  for _, k in ipairs(tc.call("cam", "ListAccessKeys", { TargetUin = uin }).AccessKeys or {}) do
    tc.call("cam", "DeleteAccessKey", { AccessKeyId = k.AccessKeyId, TargetUin = uin },
            { note = "probe: left from an earlier check" })
  end
  tc.call("cam", "AttachUserPolicy", { PolicyId = t.policy_id, AttachUin = uin },
          { note = "probe: holds " .. t.name .. " for its intents' check" })
  local k = tc.call("cam", "CreateAccessKey", { TargetUin = uin, Description = KEY_NOTE },
                    { idempotent = false, note = "probe: temporary key" }).AccessKey
  local credential = { id = k.AccessKeyId, key = k.SecretAccessKey }
  -- A new key may take a moment to be known.
  api.wait("the probe's key", function()
    local ok, r = pcall(tc.call, "sts", "GetCallerIdentity", {},
                        { credential = credential })
    if ok then return true end
    if not api.is_code(r, "AuthFailure.SecretIdNotFound") then error(r, 0) end
  end, 60)
  return { opts = { credential = credential }, close = function()
    tc.call("cam", "UpdateAccessKey", { AccessKeyId = k.AccessKeyId, Status = "Inactive", TargetUin = uin })
    tc.call("cam", "DeleteAccessKey", { AccessKeyId = k.AccessKeyId, TargetUin = uin })
    tc.call("cam", "DetachUserPolicy", { PolicyId = t.policy_id, DetachUin = uin },
            { note = "probe: check of " .. t.name .. " done" })
  end }
end

function M.identity(run, t)
  if t.account then return role_identity(t) end
  return user_identity(t)
end

return M
