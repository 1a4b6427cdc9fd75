-- The research unit: bigger servers in Beijing, a Docker blueprint, and an
-- extra classification tag on every workspace resource.
return {
  server_region = "ap-beijing",
  bundle_id = "bundle_gen_mc_large8_02",
  blueprint_id = "lhbp-k1dock26",     -- Docker CE on Ubuntu 22.04
  tags = { ["data-classification"] = "internal" },
  hooks = {
    -- Called after the workspace is ready: research servers also get a
    -- tag naming the lab, taken from the roster's optional "lab" column.
    after_workspace = function(employee, workspace)
      if employee.lab and employee.lab ~= "" then
        workspace.ensure_tags({ lab = employee.lab })
      end
    end,
  },
}
