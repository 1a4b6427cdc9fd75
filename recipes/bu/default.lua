-- Defaults for every business unit.  Each unit is declared by a file of its
-- own, recipes/bu/<business_unit>.lua (or bu/<business_unit>.lua in the
-- configuration folder, tcrun --config), which overrides any of these
-- (tables merge key by key; lists replace).  A roster row naming a unit
-- that has no file is refused before any write.
return {
  -- Where personal workspaces live.
  env_region = "ap-shanghai",        -- CloudBase environment
  server_region = "ap-guangzhou",    -- Lighthouse server
  -- CloudBase personal environment (DescribeBaasPackageList names).
  env_package = "baas_personal",
  env_resources = { "flexdb", "storage", "function" },
  -- Lighthouse server (DescribeBundles / DescribeBlueprints ids).
  bundle_id = "bundle_starter_mc_med2_02",
  blueprint_id = "lhbp-a1ubu224",     -- Ubuntu 22.04 LTS, with the TAT agent
  server_period_months = 1,
  -- Renewal of servers and environments: workspaces are for as long as
  -- the employee stays, so renew automatically (offboarding stops them).
  renew_flag = "NOTIFY_AND_AUTO_RENEW",
  -- The AI assistant, installed through TAT (recipes/scripts/).
  assistant_script = "install_assistant.sh",
  assistant_timeout = 1800,
  -- The server's login user the assistant is set up for (Ubuntu: ubuntu).
  assistant_login_user = "ubuntu",
  -- Role groups: one per environment and role, e.g. "prod-operator".  A
  -- roster row may ask only for these; onboarding also takes employees
  -- out of the ones in these lists the roster no longer gives them.
  environments = { "dev", "test", "staging", "prod" },
  roles = { "viewer", "developer", "operator", "admin" },
  -- Extra tags on every resource tcrun creates for this unit.
  tags = {},
  -- Phone numbers without a "+<code>" prefix get this country code.
  country_code = "86",
  -- Offboarding: days a stopped workspace is kept before --purge-expired
  -- (offboard.lua --retain-days overrides it).
  retain_days = 30,
  -- Permission review: sub-users that are machines, not people (not on
  -- the roster, and not orphans), and the principals whose CAM changes
  -- are expected (CloudAudit's user name; "root" is the root account).
  -- permission_review.lua reads these from the defaults only.
  service_users = {},
  -- break_glass.lua: the longest an emergency grant may last.
  break_glass_max_hours = 8,
  administrators = { "root" },
  -- Hooks, called with (employee, workspace) after a step, where
  -- workspace.ensure_tags(tags) tags the employee's environment and server;
  -- see research.lua.
  hooks = {},
}
