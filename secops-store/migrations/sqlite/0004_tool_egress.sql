-- The private or loopback ranges (CIDR) a tool configuration's calls may reach besides the public internet,
-- e.g. an on-premises Splunk at 10.20.0.5/32. Empty: public addresses only.
ALTER TABLE tool_configs ADD COLUMN egress_allow TEXT NOT NULL DEFAULT '[]';
-- Tools found on the service when the configuration was created or last tested (MCP servers list theirs), so
-- building a run's tools never waits on the network.
ALTER TABLE tool_configs ADD COLUMN discovered_tools TEXT NOT NULL DEFAULT '[]';
