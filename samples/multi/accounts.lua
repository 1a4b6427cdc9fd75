-- One account per environment (see README, "One account per environment").
-- Put this file in tcrun's configuration folder (~/.config/tcrun, or the
-- folder given with tcrun --config DIR); without it tcrun works in one
-- account.  `make run-multi` uses this very folder against the local
-- sandbox, where the hub is 100000000001.
return {
  -- The account of tcrun's credentials: it holds the people (sub-users,
  -- groups "<env>-<role>", workspaces).  Every run checks it.
  hub = "100000000001",
  -- Each environment's account, by its Organization member name.
  -- setup_accounts.lua creates a missing member under that name; once it
  -- exists, pin its UIN here too (uin = "..."), so a renamed or swapped
  -- member stops every run instead of being used.
  environments = {
    dev = { name = "acme-dev" },
    test = { name = "acme-test" },
    staging = { name = "acme-staging" },
    prod = { name = "acme-prod" },
  },
  -- The role tcrun assumes in each environment's account (the one the
  -- Organization makes), and for how long (seconds).
  role = "OrganizationAccessControlRole",
  session_seconds = 3600,
  -- The longest a person's role session lasts (the tcrun-<role> roles'
  -- maximum session): offboarding cannot end one already issued.
  role_session_seconds = 3600,
  -- Members are Organization members; guardrails (policies/guardrails.json)
  -- go on their nodes as a service control policy.
  organization = true,
  guardrails = true,
}
