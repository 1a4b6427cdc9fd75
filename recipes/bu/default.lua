-- Defaults for every business unit.  recipes/bu/<business_unit>.lua, when
-- present, overrides any of these (tables merge key by key; lists replace).
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
  -- The AI assistant, installed through TAT (recipes/scripts/).
  assistant_script = "install_assistant.sh",
  assistant_timeout = 1800,
  -- Role groups: one per environment and role, e.g. "prod-operator".
  environments = { "dev", "test", "staging", "prod" },
  roles = { "viewer", "developer", "operator", "admin" },
  -- Extra tags on every resource tcrun creates for this unit.
  tags = {},
  -- Phone numbers without a "+<code>" prefix get this country code.
  country_code = "86",
  -- Offboarding: days a stopped workspace is kept before --purge-expired.
  retain_days = 30,
  -- Hooks, called with (employee, ctx) after a step; see research.lua.
  hooks = {},
}
