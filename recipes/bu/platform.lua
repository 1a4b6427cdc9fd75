-- The platform unit: the defaults of default.lua as they are.  The file
-- declares the unit: a roster row naming a unit without a file here (or in
-- the configuration folder's bu/) is refused before any write.
return {}
